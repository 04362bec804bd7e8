package parts

import "fmt"

// PutAll stores every part of ps, in order, under one write lock: a reader
// sees either none of the batch or all of it (a code put twice ends as the
// last). Like Put it keeps versions and does not validate; it is the last
// step of a bulk change on the single write path.
func (r *Registry) PutAll(ps []Part) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range ps {
		p := ps[i]
		r.put(&p)
	}
}

// GetAll returns the parts with the given codes under one read lock, so that
// a batch applied with PutAll is seen whole or not at all. ps[i] and errs[i]
// answer codes[i] as Get would: errs[i] wraps ErrNotFound for an unknown
// code, or ErrRetired next to the retired part.
func (r *Registry) GetAll(codes []Code) (ps []Part, errs []error) {
	ps = make([]Part, len(codes))
	errs = make([]error, len(codes))
	r.mu.RLock()
	for i, c := range codes {
		idx, ok := r.codes.find(r.recs, uint64(c))
		if !ok {
			errs[i] = fmt.Errorf("%w: %s", ErrNotFound, c)
			continue
		}
		r.fill(&ps[i], idx)
	}
	r.mu.RUnlock()
	for i := range ps {
		if errs[i] == nil && ps[i].Retired {
			errs[i] = fmt.Errorf("%w: %s", ErrRetired, codes[i])
		}
	}
	return ps, errs
}
