//go:build unix

package follow

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
)

func TestAppends(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Host = "fallback"
	appendFile(t, cfg.Path, syslogLines(1, 3)+"no header here\n")
	h := start(t, cfg)
	rs := h.Take(4)
	wantLines(t, rs[:3], 1)
	if ev := rs[0].Event; ev.Host != "hsm1" || ev.Source != event.SourceRFC3164 || ev.Process != "app" ||
		ev.Input != cfg.Path+":1" {
		t.Errorf("first event: %+v", ev)
	}
	if ev := rs[3].Event; ev.Source != event.SourceUnparsed || ev.Host != "fallback" || ev.Raw != "no header here" {
		t.Errorf("unparsed line: %+v", ev)
	}
	if rs[0].Ack != nil {
		t.Error("records carry an Ack without a state folder")
	}
	appendFile(t, cfg.Path, syslogLines(5, 6))
	rs = h.Take(2)
	wantLines(t, rs, 5)
	if got := rs[1].Event.Input; got != cfg.Path+":6" {
		t.Errorf("input %q, want line 6", got)
	}
	h.settle()
	h.empty()
	st := h.f.Stats()
	if st.Lines != 6 || st.ParseFailures != 1 || st.FilesOpened != 1 || st.OpenFiles != 1 {
		t.Errorf("stats %+v", st)
	}
	h.Stop()
	if st := h.f.Stats(); st.OpenFiles != 0 {
		t.Errorf("files left open after Run: %d", st.OpenFiles)
	}
}

func TestKeysAreOffsets(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	appendFile(t, cfg.Path, "first\nsecond\n")
	h := start(t, cfg)
	rs := h.Take(2)
	st, err := os.Stat(cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := identityOf(st)
	fp := firstLineFingerprint([]byte("first"), true)
	want := []string{recordKey(id, fp, 0), recordKey(id, fp, 6)}
	for i, r := range rs {
		if r.Key != want[i] {
			t.Errorf("key %d: %q, want %q", i, r.Key, want[i])
		}
		if !strings.HasPrefix(r.Key, fmt.Sprintf("%d:%d:", id.dev, id.ino)) {
			t.Errorf("key %q does not start with dev:inode", r.Key)
		}
	}
}

func TestPartialLine(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	appendFile(t, cfg.Path, "complete\npart")
	h := start(t, cfg)
	rs := h.Take(1)
	if rs[0].Event.Raw != "complete" {
		t.Fatalf("got %q", rs[0].Event.Raw)
	}
	h.settle()
	h.empty() // "part" has no newline: not a line yet
	if st := h.f.Stats(); st.Bytes != uint64(len("complete\npart")) {
		t.Fatalf("read %d bytes", st.Bytes)
	}
	appendFile(t, cfg.Path, "ial line\n")
	rs = h.Take(1)
	if ev := rs[0].Event; ev.Raw != "partial line" || ev.Input != cfg.Path+":2" {
		t.Fatalf("completed line: %+v", ev)
	}
	if _, ok := rs[0].Event.Fields.Get("partial"); ok {
		t.Error("a completed line is marked partial")
	}
}

func TestPartialTimeout(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.PartialTimeout = 30 * time.Millisecond
	appendFile(t, cfg.Path, "a\nno newline")
	h := start(t, cfg)
	rs := h.Take(2)
	if rs[1].Event.Raw != "no newline" || rs[1].Event.Fields.Text("partial") != "true" {
		t.Fatalf("partial line: %+v", rs[1].Event)
	}
	appendFile(t, cfg.Path, " then more\n")
	rs = h.Take(1)
	// What followed the timed-out partial line is a line of its own.
	if rs[0].Event.Raw != " then more" || rs[0].Event.Input != cfg.Path+":3" {
		t.Fatalf("after the partial line: %+v", rs[0].Event)
	}
	if st := h.f.Stats(); st.PartialLines != 1 {
		t.Errorf("partial lines %d", st.PartialLines)
	}
}

func TestLongLineCut(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	long := strings.Repeat("x", 3<<20)
	appendFile(t, cfg.Path, "short\n"+long+"\nafter\n")
	h := start(t, cfg)
	rs := h.Take(3)
	if n := len(rs[1].Event.Raw); n != 1<<20 {
		t.Errorf("long line kept %d bytes, want %d", n, 1<<20)
	}
	if got := rs[1].Event.Fields.Text("truncated_bytes"); got != fmt.Sprint(2<<20) {
		t.Errorf("truncated_bytes %s", got)
	}
	if rs[2].Event.Raw != "after" || rs[2].Event.Input != cfg.Path+":3" {
		t.Errorf("line after the long one: %+v", rs[2].Event)
	}
	if !strings.HasSuffix(rs[2].Key, fmt.Sprintf(":%d", 6+len(long)+1)) {
		t.Errorf("key %q does not hold the offset after the long line", rs[2].Key)
	}
}

func TestRenameRotation(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	appendFile(t, cfg.Path, syslogLines(1, 3)+"partial at rotation")
	h := start(t, cfg)
	wantLines(t, h.Take(3), 1)
	rotated := cfg.Path + ".1"
	if err := os.Rename(cfg.Path, rotated); err != nil {
		t.Fatal(err)
	}
	// The writer has not reopened its log yet: it still appends to the renamed file.
	appendFile(t, rotated, " done\n"+syslogLines(5, 5)+"tail without newline")
	appendFile(t, cfg.Path, syslogLines(6, 7))
	rs := h.Take(5)
	if rs[0].Event.Raw != "partial at rotation done" {
		t.Fatalf("line completed after rename: %q", rs[0].Event.Raw)
	}
	wantLines(t, rs[1:2], 5)
	if ev := rs[2].Event; ev.Raw != "tail without newline" || ev.Fields.Text("partial") != "true" {
		t.Fatalf("the rotated file's last line is not emitted as partial: %+v", ev)
	}
	wantLines(t, rs[3:], 6)
	if got := rs[3].Event.Input; got != cfg.Path+":1" {
		t.Errorf("first line of the new file: input %q", got)
	}
	h.until("the rotated file to be finished", func() bool { return h.f.Stats().Rotations == 1 })
	if st := h.f.Stats(); st.OpenFiles != 1 || st.FilesOpened != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestDeleteAndRecreate(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	appendFile(t, cfg.Path, syslogLines(1, 2))
	h := start(t, cfg)
	first := h.Take(2)
	if err := os.Remove(cfg.Path); err != nil {
		t.Fatal(err)
	}
	h.until("the deleted file to be closed", func() bool { return h.f.Stats().OpenFiles == 0 })
	appendFile(t, cfg.Path, syslogLines(3, 4))
	rs := h.Take(2)
	wantLines(t, rs, 3)
	for _, r := range first {
		if r.Key == rs[0].Key {
			t.Errorf("the re-created file repeats key %s", r.Key)
		}
	}
}

func TestCopyTruncate(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	appendFile(t, cfg.Path, syslogLines(1, 3))
	h := start(t, cfg)
	before := h.Take(3)
	data, err := os.ReadFile(cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.Path+".1", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(cfg.Path, 0); err != nil {
		t.Fatal(err)
	}
	h.until("the truncation to be seen", func() bool { return h.f.Stats().Truncations == 1 })
	appendFile(t, cfg.Path, syslogLines(4, 5))
	rs := h.Take(2)
	wantLines(t, rs, 4)
	if rs[0].Event.Input != cfg.Path+":1" {
		t.Errorf("line numbers do not restart: %q", rs[0].Event.Input)
	}
	// Same inode, same offset as line 1: the fingerprint keeps the keys apart.
	if rs[0].Key == before[0].Key {
		t.Errorf("copytruncate reuses key %s", rs[0].Key)
	}
}

// TestTruncateRefilled: the file is emptied and filled past the read offset again
// before the follower looks; the size alone does not show it, the first line does.
func TestTruncateRefilled(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	appendFile(t, cfg.Path, "old 1\nold 2\n")
	h := start(t, cfg)
	h.Take(2)
	fresh := "new content, longer than before 1\nnew content 2\n"
	if err := os.WriteFile(cfg.Path, []byte(fresh), 0o644); err != nil { // O_TRUNC and write
		t.Fatal(err)
	}
	rs := h.Take(2)
	if rs[0].Event.Raw != "new content, longer than before 1" || rs[1].Event.Raw != "new content 2" {
		t.Fatalf("after refill: %q", raws(rs))
	}
}

func TestStartEnd(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Start = StartEnd
	cfg.StateDir = filepath.Join(dir, "state")
	appendFile(t, cfg.Path, syslogLines(1, 5)+"half")
	h := start(t, cfg)
	h.settle()
	h.empty()
	appendFile(t, cfg.Path, " a line\n"+syslogLines(7, 7))
	rs := h.Take(2)
	if ev := rs[0].Event; ev.Raw != "half a line" || ev.Input != cfg.Path+":6" {
		t.Fatalf("line completed after start at end: %+v", ev)
	}
	wantLines(t, rs[1:], 7)
	if rs[1].Event.Input != cfg.Path+":7" {
		t.Errorf("line numbers after start at end: %q", rs[1].Event.Input)
	}
	ackAll(rs)
	h.Stop()

	// The next run resumes from the checkpoint, even for lines written while it was down:
	// "end" only applies to the first run.
	appendFile(t, cfg.Path, syslogLines(8, 8))
	h = start(t, cfg)
	wantLines(t, h.Take(1), 8)
}

func TestGlob(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Path = filepath.Join(dir, "*.log")
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	appendFile(t, a, "a1\n")
	if err := os.Mkdir(filepath.Join(dir, "dir.log"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := start(t, cfg)
	if rs := h.Take(1); rs[0].Event.Input != a+":1" {
		t.Fatalf("got %+v", rs[0].Event)
	}
	appendFile(t, b, "b1\n")
	appendFile(t, filepath.Join(dir, "other.txt"), "not matched\n")
	if rs := h.Take(1); rs[0].Event.Input != b+":1" {
		t.Fatalf("got %+v", rs[0].Event)
	}
	appendFile(t, a, "a2\n")
	if rs := h.Take(1); rs[0].Event.Input != a+":2" {
		t.Fatalf("got %+v", rs[0].Event)
	}
	h.settle()
	h.empty()
}

// TestResumeAfterCrash: records are acked up to line 6 of 10, then the follower stops
// without the tail being acked. The next run emits lines 7..10 again, with the keys
// they had, and never lines 1..6.
func TestResumeAfterCrash(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.StateDir = filepath.Join(dir, "state")
	appendFile(t, cfg.Path, syslogLines(1, 10))
	h := start(t, cfg)
	first := h.Take(10)
	ackAll(first[:6])
	h.until("a commit of the acked lines", func() bool {
		e := readCheckpoint(t, cfg)
		return len(e) == 1 && e[0].Line == 6
	})
	// The checkpoint on disk is what a kill -9 now would leave; keep it, because a
	// clean stop would commit once more (with the same content: nothing else is acked).
	saved, err := os.ReadFile(h.f.ckptPath)
	if err != nil {
		t.Fatal(err)
	}
	h.Stop()
	if err := os.WriteFile(h.f.ckptPath, saved, 0o600); err != nil {
		t.Fatal(err)
	}

	appendFile(t, cfg.Path, syslogLines(11, 11))
	h2 := start(t, cfg)
	again := h2.Take(5)
	wantLines(t, again, 7)
	for i, r := range again[:4] {
		if r.Key != first[6+i].Key {
			t.Errorf("line %d: key %s after restart, %s before", 7+i, r.Key, first[6+i].Key)
		}
		if r.Event.Input != cfg.Path+":"+fmt.Sprint(7+i) {
			t.Errorf("line %d: input %q after restart", 7+i, r.Event.Input)
		}
	}
	ackAll(again)
	h2.Stop()
	if e := readCheckpoint(t, cfg); len(e) != 1 || e[0].Line != 11 {
		t.Fatalf("checkpoint after the last stop: %+v", e)
	}
	if st := h2.f.Stats(); st.Acked != 5 || st.Commits == 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestResumeRotatedWhileDown: the file is rotated while hsmwatch is down; the next run
// finishes the rotated file from its checkpoint before it reads the new one.
func TestResumeRotatedWhileDown(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.StateDir = filepath.Join(dir, "state")
	appendFile(t, cfg.Path, syslogLines(1, 5))
	h := start(t, cfg)
	first := h.Take(5)
	ackAll(first[:3])
	h.Stop()

	if err := os.Rename(cfg.Path, cfg.Path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, cfg.Path+".1", syslogLines(6, 6))
	appendFile(t, cfg.Path, syslogLines(7, 8))
	h2 := start(t, cfg)
	rs := h2.Take(5)
	wantLines(t, rs, 4)
	if rs[0].Key != first[3].Key || rs[1].Key != first[4].Key {
		t.Errorf("keys changed across the restart: %s %s, were %s %s", rs[0].Key, rs[1].Key, first[3].Key, first[4].Key)
	}
	if rs[2].Event.Input != cfg.Path+".1:6" || rs[3].Event.Input != cfg.Path+":1" {
		t.Errorf("inputs %q %q", rs[2].Event.Input, rs[3].Event.Input)
	}
	ackAll(rs)
	h2.until("the rotated file to be finished and forgotten", func() bool {
		e := readCheckpoint(t, cfg)
		return len(e) == 1 && e[0].Path == cfg.Path && e[0].Line == 2
	})
}

// TestRotatedTwiceWhileDown: a file is opened after a rotation, its lines go out but are
// not durable, the process dies before any periodic commit, and the file is rotated
// away while it is down. The checkpoint written when the file was opened lets the next
// run find it under its new name.
func TestRotatedTwiceWhileDown(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.CommitInterval, cfg.CommitEvery = time.Hour, 1<<30 // no periodic commit
	appendFile(t, cfg.Path, syslogLines(1, 2))
	h := start(t, cfg)
	ackAll(h.Take(2))
	if err := os.Rename(cfg.Path, cfg.Path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, cfg.Path, syslogLines(3, 4))
	before := h.Take(2) // not acked
	wantLines(t, before, 3)
	saved, err := os.ReadFile(h.f.ckptPath) // what a kill -9 now would leave
	if err != nil {
		t.Fatal(err)
	}
	h.Stop()
	if err := os.WriteFile(h.f.ckptPath, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(cfg.Path, cfg.Path+".2"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, cfg.Path, syslogLines(5, 5))
	h2 := start(t, cfg)
	rs := h2.Take(3)
	wantLines(t, rs, 3)
	if rs[0].Key != before[0].Key || rs[1].Key != before[1].Key {
		t.Errorf("keys changed: %s %s, were %s %s", rs[0].Key, rs[1].Key, before[0].Key, before[1].Key)
	}
}

// TestReplacedWhileDown: the checkpointed file was replaced by one that starts
// differently; it is read from its start, not from the old offset.
func TestReplacedWhileDown(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.StateDir = filepath.Join(dir, "state")
	appendFile(t, cfg.Path, syslogLines(1, 3))
	h := start(t, cfg)
	ackAll(h.Take(3))
	h.Stop()
	// Same inode, new content longer than the checkpointed offset.
	if err := os.WriteFile(cfg.Path, []byte(strings.Repeat("replacement line\n", 20)), 0o644); err != nil {
		t.Fatal(err)
	}
	h2 := start(t, cfg)
	rs := h2.Take(20)
	if rs[0].Event.Input != cfg.Path+":1" || rs[0].Event.Raw != "replacement line" {
		t.Fatalf("first record %+v", rs[0].Event)
	}
}

func TestDamagedCheckpoint(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.Start = StartEnd
	appendFile(t, cfg.Path, syslogLines(1, 2))
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.ckptPath, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Not a first run: "end" does not apply, the lines are read again.
	h := start(t, cfg)
	wantLines(t, h.Take(2), 1)
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Path: "/x/[", Format: ""},
		{Path: "/x", Format: "no-such-format"},
		{Path: "/x", Start: "middle"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestRunReturnsOnCancel(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Path = filepath.Join(dir, "never-there.log")
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// An emit that blocks as a full pipeline would.
	block := func(ctx context.Context, _ component.Record) error { <-ctx.Done(); return ctx.Err() }
	go func() { done <- f.Run(ctx, block) }()
	cancel()
	select {
	case err := <-done:
		if err != nil && !isCanceled(err) {
			t.Fatal(err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not return")
	}
	if err := f.Run(context.Background(), block); err == nil {
		t.Error("a second Run was accepted")
	}
}

// TestBlockedEmitCancel: Run returns promptly while its emit is blocked.
func TestBlockedEmitCancel(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	appendFile(t, cfg.Path, syslogLines(1, 3))
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	entered := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- f.Run(ctx, func(ctx context.Context, _ component.Record) error {
			entered <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		})
	}()
	select {
	case <-entered:
	case <-time.After(wait):
		t.Fatal("no emit")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not return")
	}
}

func TestMaxUnacked(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.MaxUnacked = 3
	appendFile(t, cfg.Path, syslogLines(1, 5))
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	blocked := make(chan struct{}, 10)
	f.onBlock = func() { blocked <- struct{}{} }
	recs := make(chan component.Record, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- f.Run(ctx, func(_ context.Context, r component.Record) error { recs <- r; return nil })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	waitBlocked := func() {
		t.Helper()
		select {
		case <-blocked:
		case <-time.After(wait):
			t.Fatal("the follower did not wait for acks")
		}
	}
	waitBlocked()
	if len(recs) != 3 {
		t.Fatalf("%d records out with MaxUnacked 3", len(recs))
	}
	rs := []component.Record{<-recs, <-recs, <-recs}
	rs[0].Ack()
	rs[0].Ack() // a second Ack of the same record frees nothing more
	waitBlocked()
	if len(recs) != 1 {
		t.Fatalf("%d records after one ack", len(recs))
	}
	wantLines(t, []component.Record{<-recs}, 4)
	ackAll(rs[1:])
	select {
	case r := <-recs:
		wantLines(t, []component.Record{r}, 5)
	case <-time.After(wait):
		t.Fatal("no record after the acks")
	}
}

func TestOutOfOrderAcks(t *testing.T) {
	tr := newTracker("p", fileID{}, position{})
	var seqs []uint64
	for i := int64(1); i <= 5; i++ {
		seqs = append(seqs, tr.add(position{end: i * 10, line: i}))
	}
	tr.ack(seqs[1])
	tr.ack(seqs[2])
	if e, _ := tr.entry(); e.Offset != 0 {
		t.Fatalf("watermark passed an unacked record: %+v", e)
	}
	tr.ack(seqs[0])
	if e, _ := tr.entry(); e.Offset != 30 || e.Line != 3 {
		t.Fatalf("watermark %+v, want offset 30 line 3", e)
	}
	tr.ack(seqs[4])
	tr.ack(seqs[3])
	if e, _ := tr.entry(); e.Offset != 50 {
		t.Fatalf("watermark %+v", e)
	}
	tr.close()
	if _, needed := tr.entry(); needed {
		t.Error("a finished, fully acked file is still needed")
	}
}

func readCheckpoint(t *testing.T, cfg Config) []entry {
	t.Helper()
	data, err := os.ReadFile(checkpointPath(cfg.StateDir, "file:"+cfg.Path))
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		t.Fatal(err)
	}
	var c checkpointFile
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("checkpoint %s: %v", data, err)
	}
	return c.Files
}

// Records acknowledged after Run returned (the pipeline drains after its sources stop)
// reach the checkpoint through Commit, so the next start does not read them again.
func TestCommitAfterStop(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.StateDir = filepath.Join(dir, "state")
	appendFile(t, cfg.Path, syslogLines(1, 8))
	h := start(t, cfg)
	recs := h.Take(8)
	ackAll(recs[:3])
	h.Stop()
	if e := readCheckpoint(t, cfg); len(e) != 1 || e[0].Line != 3 {
		t.Fatalf("checkpoint at the stop: %+v", e)
	}
	ackAll(recs[3:]) // the drain, after the source stopped
	h.f.Commit()
	if e := readCheckpoint(t, cfg); len(e) != 1 || e[0].Line != 8 {
		t.Fatalf("checkpoint after Commit: %+v, want line 8", e)
	}
	appendFile(t, cfg.Path, syslogLines(9, 9))
	h2 := start(t, cfg)
	wantLines(t, h2.Take(1), 9)
	h2.Stop()
}
