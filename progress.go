package s3dest

import "sync"

// Progress reports how far one transfer has come.
type Progress struct {
	Name  string // the object name, relative to the prefix
	Done  int64  // bytes moved so far
	Total int64  // bytes in all, -1 when unknown
}

// reporter serialises progress reports of one transfer. A nil reporter
// (no WithProgress) costs one comparison per call.
type reporter struct {
	mu    sync.Mutex
	fn    func(Progress)
	name  string
	total int64
	done  int64
}

func (d *Destination) reporter(name string, total int64) *reporter {
	if d.cfg.progress == nil {
		return nil
	}
	return &reporter{fn: d.cfg.progress, name: name, total: total}
}

// add reports n more bytes done.
func (p *reporter) add(n int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.fn(Progress{Name: p.name, Done: p.done, Total: p.total})
}

// finish reports the end of a successful transfer of n bytes.
func (p *reporter) finish(n int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.total = n, n
	p.fn(Progress{Name: p.name, Done: n, Total: n})
}
