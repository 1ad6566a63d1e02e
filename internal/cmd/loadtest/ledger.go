package main

import (
	"slices"
	"strings"
	"sync"
)

// The ledger says, for every name, which states the object may be in: a
// set of candidates, each a version or nil (absent). One candidate is
// certainty. Operations on one name are serialised by the name's lock, so
// that the ledger follows the server; List takes no lock and checks only
// the names no operation touched while it ran.
//
//	Put nil            {new}                      certain
//	Put error          old ∪ {new, absent}        (a failed Put may have stored, or deleted a corrupt upload)
//	Delete nil         {absent}
//	Delete error       old ∪ {absent}
//	DeleteMany         {absent} but for the names its error names (all, if a request failed as a whole)
//	Rename nil         to = from's versions, from = {absent}
//	Rename error       to = to ∪ from's versions, from = from ∪ {absent}
//	Get/Stat nil       collapse to the versions that match what was read
//	not found          collapse to {absent}
//
// A read that matches no candidate, or "not found" of an object that must
// exist, is a contradiction: the ledger is kept honest, never adjusted.

type entry struct {
	lock  sync.Mutex // held by the operation on this name
	cands []*version // guarded by ledger.mu
	how   string     // what made the state certain: "put", "rename", "delete", "read", ...
	epoch uint64     // bumped whenever an operation takes or releases lock
	busy  bool
	hist  []string // the last operations on the name, with their faults
}

type ledger struct {
	mu      sync.Mutex
	names   []string
	entries map[string]*entry
}

func newLedger(names []string) *ledger {
	l := &ledger{names: names, entries: map[string]*entry{}}
	for _, n := range names {
		l.entries[n] = &entry{cands: []*version{nil}, how: "never written"}
	}
	return l
}

// acquire locks names (sorted, without repeats) for one operation and
// returns the release function.
func (l *ledger) acquire(names ...string) func() {
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	for _, n := range names {
		e := l.entries[n]
		e.lock.Lock()
		l.mu.Lock()
		e.epoch++
		e.busy = true
		l.mu.Unlock()
	}
	return func() {
		for _, n := range names {
			e := l.entries[n]
			l.mu.Lock()
			e.epoch++
			e.busy = false
			l.mu.Unlock()
			e.lock.Unlock()
		}
	}
}

// note records an operation on name in its history.
func (l *ledger) note(name, what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[name]
	if len(e.hist) == 10 {
		e.hist = e.hist[1:]
	}
	e.hist = append(e.hist, what)
}

// history returns the last operations on name.
func (l *ledger) history(name string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return "\n      history of " + name + ":\n        " + strings.Join(l.entries[name].hist, "\n        ")
}

// get returns a copy of the candidates of name.
func (l *ledger) get(name string) []*version {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries[name].cands)
}

func (l *ledger) how(name string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.entries[name].how
}

// set makes name certain (or a given set of candidates).
func (l *ledger) set(name, how string, vs ...*version) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[name]
	e.cands = dedupe(vs)
	if len(e.cands) == 1 {
		e.how = how
	} else {
		e.how = "uncertain after " + how
	}
}

// widen adds possible states to name.
func (l *ledger) widen(name, how string, vs ...*version) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[name]
	e.cands = dedupe(append(e.cands, vs...))
	if len(e.cands) > 1 {
		e.how = "uncertain after " + how
	}
}

// snapshot returns the epoch and busy state of every name.
func (l *ledger) snapshot() map[string]struct {
	epoch uint64
	busy  bool
} {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]struct {
		epoch uint64
		busy  bool
	}, len(l.entries))
	for n, e := range l.entries {
		out[n] = struct {
			epoch uint64
			busy  bool
		}{e.epoch, e.busy}
	}
	return out
}

// dedupe keeps one candidate per content.
func dedupe(vs []*version) []*version {
	var out []*version
	for _, v := range vs {
		if !slices.ContainsFunc(out, func(w *version) bool { return same(v, w) }) {
			out = append(out, v)
		}
	}
	return out
}

// present returns the candidates that are versions (not absent).
func present(vs []*version) []*version {
	var out []*version
	for _, v := range vs {
		if v != nil {
			out = append(out, v)
		}
	}
	return out
}

func hasAbsent(vs []*version) bool { return slices.Contains(vs, nil) }

func describe(vs []*version) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = v.String()
	}
	return "{" + strings.Join(s, ", ") + "}"
}
