package poller

// SetStorage sets the warn and crit ranges of every storage item of the shipped profiles
// (check snmp's -w and -c), unless o.Thresholds already names that item (--threshold);
// both "" changes nothing.
func (o *Options) SetStorage(warn, crit string) {
	if warn == "" && crit == "" {
		return
	}
	if o.Thresholds == nil {
		o.Thresholds = map[string]Thresholds{}
	}
	for _, p := range ShippedProfiles() {
		for _, h := range p.Health {
			if _, set := o.Thresholds[h.ID]; !h.Storage || set {
				continue
			}
			th := Thresholds{}
			if warn != "" {
				w := warn
				th.Warn = &w
			}
			if crit != "" {
				c := crit
				th.Crit = &c
			}
			o.Thresholds[h.ID] = th
		}
	}
}
