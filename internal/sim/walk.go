package sim

import (
	"math"
	"time"
)

// Values that move. Every one is a pure function of a seed and a time, so that what a
// simulated HSM shows at a given instant does not depend on who asked before, a walk
// of a fleet costs no goroutine and no lock, and a test that sets a Manual clock sees
// exactly the same numbers on every run.
//
// A Walk is a bounded random walk approximated by summed value noise (fractional
// Brownian motion: octaves of smoothly interpolated seeded random points, each twice the
// period of the last and sqrt(2) times its amplitude, as a random walk's increments
// grow with the square root of time). A Counter is a rate plus noise whose slope never
// goes negative, so it only grows between two boots.

// mix is splitmix64's finaliser: a well spread 64-bit hash.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// seedOf derives a seed from a parent seed and a name (an object, a sensor).
func seedOf(parent uint64, name string) uint64 {
	h := mix(parent)
	for i := 0; i < len(name); i++ {
		h = mix(h ^ uint64(name[i]))
	}
	return h
}

// unitAt is a seeded random number in [-1, 1) for the integer point k.
func unitAt(seed uint64, k int64) float64 {
	return float64(mix(seed^mix(uint64(k))))/float64(1<<63) - 1
}

// noise is 1-D value noise in [-1, 1]: random values at integer x, joined by a
// smoothstep (its slope is at most 1.5 times the difference of the two points).
func noise(seed uint64, x float64) float64 {
	fl := math.Floor(x)
	k := int64(fl)
	f := x - fl
	f = f * f * (3 - 2*f)
	a, b := unitAt(seed, k), unitAt(seed, k+1)
	return a + (b-a)*f
}

// secs is t in seconds since the Unix epoch, as a float.
func secs(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Walk is a value that wanders around Center within [Min, Max].
type Walk struct {
	Seed     uint64
	Center   float64
	Spread   float64       // how far it wanders from Center, at most
	Period   time.Duration // time between two random points of the fastest octave
	Min, Max float64
}

const walkOctaves = 4

// At returns the walk's value at t.
func (w Walk) At(t time.Time) float64 {
	p := w.Period.Seconds()
	if p <= 0 {
		p = 60
	}
	x := secs(t)
	var sum, norm float64
	amp := 1.0
	for o := 0; o < walkOctaves; o++ {
		sum += amp * noise(w.Seed+uint64(o)*0x51ed27, x/p)
		norm += amp
		p *= 2
		amp *= math.Sqrt2
	}
	v := w.Center + w.Spread*sum/norm
	return math.Max(w.Min, math.Min(w.Max, v))
}

// Counter is a count that grows at about Rate per second, never backwards.
type Counter struct {
	Seed uint64
	Rate float64 // per second, on average
}

const counterPeriod = 60.0 // seconds between two random points of the counter's noise

// f is the counter's running total since the epoch: rate*x plus noise whose slope
// (at most 1.5*2*amp/period) stays below rate, so f never decreases.
func (c Counter) f(t time.Time) float64 {
	x := secs(t)
	amp := c.Rate * counterPeriod / 4
	return c.Rate*x + amp*noise(c.Seed, x/counterPeriod)
}

// Since returns how much the counter grew from since to t (0 when t is not after since).
func (c Counter) Since(since, t time.Time) uint64 {
	if !t.After(since) || c.Rate <= 0 {
		return 0
	}
	d := c.f(t) - c.f(since)
	if d < 0 {
		return 0
	}
	return uint64(d)
}
