package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/poller"
)

func target(d device) poller.Target {
	if d.vendor == "luna" {
		return poller.Target{Addr: d.addr, User: benchUser, AuthProto: "SHA", AuthPass: benchAuth, PrivProto: "AES", PrivPass: benchPriv}
	}
	return poller.Target{Addr: d.addr, Community: "public"}
}

func profileOf(d device) string {
	if d.vendor == "luna" {
		return poller.ProfileLunaNetwork
	}
	return poller.ProfileDinamo
}

// measureOurs polls the fleet with hsmwatch's poller two ways:
//
//   - warm: one Poller per device, kept between rounds as the daemon keeps it (its
//     socket, its SNMPv3 engine ID and localized keys, its resolved profile); a first
//     round (profile detection, counter baselines) is not measured;
//   - cold: a new Poller per device poll with the profile given, as a one-shot check
//     does: socket, SNMPv3 discovery and key localization every time.
func measureOurs(ctx context.Context, devs []device, tb *mib.Table, conc, rounds, coldRounds int, fleetCPU func() time.Duration) (warm, cold result, _ error) {
	pollers := make([]*poller.Poller, len(devs))
	for i, d := range devs {
		p, err := poller.New(poller.Options{Target: target(d), MIB: tb})
		if err != nil {
			return warm, cold, err
		}
		pollers[i] = p
	}
	defer func() {
		for _, p := range pollers {
			p.Close()
		}
	}()
	var requests, values atomic.Int64
	check := func(d device, r *poller.Result, err error) error {
		switch {
		case err != nil:
			return err
		case r.Profile != profileOf(d):
			return fmt.Errorf("%s: profile %s, want %s", d.addr, r.Profile, profileOf(d))
		case r.State == poller.StateUnknown || r.Variables == 0:
			// Warning and critical are the devices' health (a simulated Dinamo's error
			// counter moves: over a short interval its rate can cross a threshold);
			// unknown is a poll that did not get what the profile needs.
			return fmt.Errorf("%s: %s, %d values %v", d.addr, r.State, r.Variables, r.Notes)
		}
		requests.Add(int64(r.Requests))
		values.Add(int64(r.Variables))
		return nil
	}
	first := pool(ctx, len(devs), conc, func(ctx context.Context, i int) error {
		r, err := pollers[i].Poll(ctx)
		return check(devs[i], r, err)
	})
	if first != nil {
		return warm, cold, fmt.Errorf("hsmwatch, first round: %w", first)
	}
	requests.Store(0)
	values.Store(0)
	fleet0, cpu0, t0 := fleetCPU(), cpuTime(syscall.RUSAGE_SELF), time.Now()
	for round := 0; round < rounds; round++ {
		if err := pool(ctx, len(devs), conc, func(ctx context.Context, i int) error {
			r, err := pollers[i].Poll(ctx)
			return check(devs[i], r, err)
		}); err != nil {
			return warm, cold, fmt.Errorf("hsmwatch: %w", err)
		}
	}
	warm = result{name: "hsmwatch poller (warm)", cycles: rounds, polls: rounds * len(devs), wall: time.Since(t0),
		cpu: cpuTime(syscall.RUSAGE_SELF) - cpu0, fleetCPU: fleetCPU() - fleet0, requests: int(requests.Load()), values: int(values.Load()),
		note: "one Poller per device kept between polls (the daemon's way): Get of the profile's scalars in one request, GetBulk walks of its tables; health items, samples and events computed"}

	requests.Store(0)
	values.Store(0)
	fleet0, cpu0, t0 = fleetCPU(), cpuTime(syscall.RUSAGE_SELF), time.Now()
	for round := 0; round < coldRounds; round++ {
		if err := pool(ctx, len(devs), conc, func(ctx context.Context, i int) error {
			p, err := poller.New(poller.Options{Target: target(devs[i]), MIB: tb, Profile: profileOf(devs[i])})
			if err != nil {
				return err
			}
			defer p.Close()
			r, err := p.Poll(ctx)
			return check(devs[i], r, err)
		}); err != nil {
			return warm, cold, fmt.Errorf("hsmwatch cold: %w", err)
		}
	}
	cold = result{name: "hsmwatch poller (cold)", cycles: coldRounds, polls: coldRounds * len(devs), wall: time.Since(t0),
		cpu: cpuTime(syscall.RUSAGE_SELF) - cpu0, fleetCPU: fleetCPU() - fleet0, requests: int(requests.Load()), values: int(values.Load()),
		note: "a new Poller per device poll with the profile given (a one-shot check's way): new socket, SNMPv3 engine discovery and key localization each time, the profile resolved each time"}
	return warm, cold, nil
}
