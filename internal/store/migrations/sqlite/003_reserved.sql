-- hsmwatch store, schema 3: reserved for the operator actions (branch actions), whose
-- migration takes this number; this placeholder only keeps the versions without a gap
-- on its own branch and is deleted when the two are merged.
SELECT 1;
