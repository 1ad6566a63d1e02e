package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/s3dest/s3dest"
)

func (r *run) rename(ctx context.Context, t *trace, from, to string) {
	defer r.l.acquire(from, to)()
	ctx, cancel := r.begin(ctx, t)
	defer cancel()
	cf := r.l.get(from)
	pf := present(cf)
	err := r.d.Rename(ctx, from, to)
	r.st.op("Rename", err)
	defer r.holdAfter(err)
	defer func() { r.record(fmt.Sprintf("Rename(%q, %q)", from, to), err, t, from, to) }()
	switch {
	case err == nil:
		if len(pf) == 0 {
			r.findn(from, vContradict, "Rename(%q, %q) = nil, but the source must be absent (%s); %v", from, to, r.l.how(from), t)
			r.l.widen(to, "rename of an absent source", nil)
			return
		}
		r.l.set(to, "rename", pf...)
		r.l.set(from, "rename", nil)
	case errors.Is(err, s3dest.ErrObjectNotFound):
		// The source was not there. Stat said so before anything was
		// copied, but the ledger does not rely on that: the copy may be
		// anywhere between not started and done.
		r.notFound("Rename", from, cf, t)
		r.l.widen(to, "rename that failed", pf...)
	default:
		// Failed somewhere between the Stat and the delete of the source:
		// the copy may exist, the source may be gone.
		r.l.widen(from, "rename that failed", nil)
		r.l.widen(to, "rename that failed", pf...)
	}
}

func (r *run) delete(ctx context.Context, t *trace, name string) {
	defer r.l.acquire(name)()
	ctx, cancel := r.begin(ctx, t)
	defer cancel()
	err := r.d.Delete(ctx, name)
	r.st.op("Delete", err)
	defer r.holdAfter(err)
	defer func() { r.record(fmt.Sprintf("Delete(%q)", name), err, t, name) }()
	if err == nil {
		r.l.set(name, "delete", nil)
		return
	}
	r.l.widen(name, "failed delete", nil)
}

func (r *run) deleteMany(ctx context.Context, t *trace, names []string) {
	defer r.l.acquire(names...)()
	ctx, cancel := r.begin(ctx, t)
	defer cancel()
	err := r.d.DeleteMany(ctx, names)
	r.st.op("DeleteMany", err)
	defer r.holdAfter(err)
	defer func() { r.record(fmt.Sprintf("DeleteMany(%q)", names), err, t, names...) }()
	if err == nil {
		for _, n := range names {
			r.l.set(n, "delete-many", nil)
		}
		return
	}
	// The error names each object that could not be deleted; one with no
	// key is a request that failed as a whole: nothing is known then.
	failed, all := map[string]bool{}, false
	for _, e := range leaves(err) {
		var se *s3dest.Error
		if !errors.As(e, &se) || se.Key == "" {
			all = true
			continue
		}
		name, ok := strings.CutPrefix(se.Key, r.d.Prefix())
		if _, known := r.l.entries[name]; !ok || !known {
			r.st.find(vContradict, "DeleteMany(%q) named a key it was not given: %q; %v", names, se.Key, t)
			all = true
			continue
		}
		failed[name] = true
	}
	for _, n := range names {
		if all || failed[n] {
			r.l.widen(n, "failed delete-many", nil)
		} else {
			r.l.set(n, "delete-many", nil)
		}
	}
}

// serverTemp matches the temporary file versitygw's posix backend writes
// an object under (".obj-0112.sgwtmp.1796031628462041654"), which its
// listings show while the Put is under way.
var serverTemp = regexp.MustCompile(`^\..+\.sgwtmp\.[0-9]+$`)

// list checks a listing against the ledger, for the names no operation
// touched while it ran.
func (r *run) list(ctx context.Context, t *trace) {
	ctx, cancel := r.begin(ctx, t)
	defer cancel()
	before := r.l.snapshot()
	listed := map[string]int64{}
	var err error
	for fi, e := range r.d.List(ctx) {
		if e != nil {
			err = e
			break
		}
		if _, dup := listed[fi.Name]; dup {
			r.st.find(vContradict, "List yielded %q twice; %v", fi.Name, t)
		}
		listed[fi.Name] = fi.Size
	}
	r.st.op("List", err)
	r.record(fmt.Sprintf("List, %d objects", len(listed)), err, t)
	if err != nil {
		return
	}
	after := r.l.snapshot()
	for name, size := range listed {
		if _, ok := r.l.entries[name]; !ok {
			verdict := vContradict
			if serverTemp.MatchString(name) {
				verdict = vServerTemp // the server's, not s3dest's: it lists what the server lists
			}
			r.st.find(verdict, "List yielded %q (%d bytes), a name never used; %v", name, size, t)
		}
	}
	for _, name := range r.l.names {
		b, a := before[name], after[name]
		if b.busy || a.epoch != b.epoch {
			continue // an operation touched it meanwhile
		}
		if r.listSeen(name, a.epoch) {
			continue // reported already, and untouched since
		}
		cands := r.l.get(name)
		size, ok := listed[name]
		switch {
		case ok && !anySize(cands, size):
			r.listReported(name, a.epoch)
			r.findn(name, vContradict, "List: %q has %d bytes; the ledger holds %s (%s); %v", name, size, describe(cands), r.l.how(name), t)
		case !ok && !hasAbsent(cands):
			r.listReported(name, a.epoch)
			r.findn(name, vContradict, "List: %q is missing; the ledger holds %s (%s); %v", name, describe(cands), r.l.how(name), t)
		}
	}
}

func anySize(vs []*version, size int64) bool {
	for _, v := range present(vs) {
		if v.size == size {
			return true
		}
	}
	return false
}

// listSeen reports whether List reported name at this epoch already.
func (r *run) listSeen(name string, epoch uint64) bool {
	r.st.mu.Lock()
	defer r.st.mu.Unlock()
	return r.reported[name] == epoch
}

func (r *run) listReported(name string, epoch uint64) {
	r.st.mu.Lock()
	defer r.st.mu.Unlock()
	r.reported[name] = epoch
}
