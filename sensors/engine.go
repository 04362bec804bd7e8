package sensors

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"citytwin/parts"
)

// Defaults of Options.
const (
	DefaultWindow    = 16
	DefaultMaxFuture = 5 * time.Minute
	DefaultMaxPast   = 24 * time.Hour
	maxWindowLen     = 1024
)

// Options configures an Engine. The zero value takes the defaults.
type Options struct {
	// Window is how many recent readings are kept per sensor (for rate rules
	// and Recent), default 16, at most 1024: 8 bytes a reading, allocated
	// with the sensor.
	Window int
	// MaxFuture is how far ahead of Now a reading may be (clock skew),
	// default 5 minutes.
	MaxFuture time.Duration
	// MaxPast is how old a reading may be, default 24 hours.
	MaxPast time.Duration
	// Now is the clock, default time.Now.
	Now func() time.Time
}

// Counts are the readings an engine evaluated and rejected, by reason.
type Counts struct {
	Evaluated     uint64
	UnknownSensor uint64
	BadValue      uint64
	Future        uint64
	TooOld        uint64
	Duplicate     uint64
	OutOfOrder    uint64
}

const (
	cEvaluated = iota
	cUnknown
	cBadValue
	cFuture
	cTooOld
	cDuplicate
	cOutOfOrder
	nCounts
)

const nShards = 64 // power of two

// Engine holds the sensors, their live status, recent readings and alarms in
// memory and evaluates readings against their rules. It is safe for
// concurrent use: sensors are spread over shards by a hash of their id, each
// with its own lock, held only for the few hundred nanoseconds of one
// evaluation.
type Engine struct {
	window    int
	maxFuture time.Duration
	maxPast   time.Duration
	now       func() time.Time
	seed      maphash.Seed
	n         atomic.Int64

	shards [nShards]shard

	codeMu     sync.RWMutex
	byCode     map[parts.Code]ID   // the first sensor bound to a code
	moreByCode map[parts.Code][]ID // the others (a cover with tilt and gas)

	internMu sync.Mutex
	ruleSets map[string]*ruleSet // interned: sensors with equal rules share one
	units    map[string]string
	keyBuf   []byte
}

// shard holds the sensors whose id hashes to it, keyed by the 64-bit hash
// (no string key to dereference in the map: one cache miss less), entries
// with colliding hashes chained by next.
type shard struct {
	mu     sync.Mutex
	m      map[uint64]*entry
	counts [nCounts]uint64
	_      [56]byte // keep shards on their own cache lines
}

func (sh *shard) get(h uint64, id ID) *entry {
	for en := sh.m[h]; en != nil; en = en.next {
		if en.is(id) {
			return en
		}
	}
	return nil
}

func (sh *shard) add(h uint64, en *entry) {
	en.next = sh.m[h]
	sh.m[h] = en
}

func (sh *shard) remove(h uint64, en *entry) {
	p := sh.m[h]
	if p == en {
		if en.next == nil {
			delete(sh.m, h)
		} else {
			sh.m[h] = en.next
		}
		return
	}
	for ; p != nil; p = p.next {
		if p.next == en {
			p.next = en.next
			return
		}
	}
}

// ruleSet is an interned, compiled list of rules.
type ruleSet struct {
	key     string
	rules   []Rule
	c       []crule
	silence bool
	refs    int
}

// entry is one sensor: its binding, interned rules, status, window and alarms.
// It is kept small: 100,000 sensors are a few tens of megabytes.
type entry struct {
	// hot: read or written by every evaluation
	key      [keyLen]byte // the id's first bytes: compared without a cache miss
	next     *entry       // same hash
	id       ID
	rs       *ruleSet
	al       *alarmSet // nil until the sensor's first alarm
	win      []slot    // ring of recent readings, usually in the same allocation
	last     int64     // last reading, Unix ns; 0 none
	value    float64
	readings uint64
	head, n  uint16 // window ring
	online   bool
	retired  bool  // the bound component was retired
	since    int64 // registered or loaded, Unix ns: silence counts from here
	// cold
	kind    Kind
	unit    string
	code    parts.Code
	version uint64
	updated int64 // Sensor.Updated, Unix ns
}

// newEntry allocates an entry with its window ring in one allocation (one
// cache miss less per reading) for windows up to 32.
func newEntry(window int) *entry {
	switch {
	case window <= 8:
		w := new(struct {
			entry
			ring [8]slot
		})
		w.win = w.ring[:window]
		return &w.entry
	case window <= 16:
		w := new(struct {
			entry
			ring [16]slot
		})
		w.win = w.ring[:window]
		return &w.entry
	case window <= 32:
		w := new(struct {
			entry
			ring [32]slot
		})
		w.win = w.ring[:window]
		return &w.entry
	}
	return &entry{win: make([]slot, window)}
}

const keyLen = 24

// is reports whether en is the sensor id.
func (en *entry) is(id ID) bool {
	if len(id) != len(en.id) {
		return false
	}
	if len(id) <= keyLen {
		return string(en.key[:len(id)]) == string(id)
	}
	return string(en.key[:]) == string(id[:keyLen]) && en.id == id
}

// NewEngine returns an empty engine.
func NewEngine(o Options) *Engine {
	e := &Engine{
		window: o.Window, maxFuture: o.MaxFuture, maxPast: o.MaxPast, now: o.Now,
		seed:       maphash.MakeSeed(),
		byCode:     make(map[parts.Code]ID),
		moreByCode: make(map[parts.Code][]ID),
		ruleSets:   make(map[string]*ruleSet),
		units:      make(map[string]string),
	}
	if e.window <= 0 {
		e.window = DefaultWindow
	}
	e.window = min(e.window, maxWindowLen)
	if e.maxFuture <= 0 {
		e.maxFuture = DefaultMaxFuture
	}
	if e.maxPast <= 0 {
		e.maxPast = DefaultMaxPast
	}
	if e.now == nil {
		e.now = time.Now
	}
	for i := range e.shards {
		e.shards[i].m = make(map[uint64]*entry)
	}
	return e
}

func (e *Engine) shard(id ID) (*shard, uint64) {
	h := maphash.String(e.seed, string(id))
	return &e.shards[h>>58], h // the top 6 bits pick one of 64 shards
}

// Put registers s, or replaces the sensor with its id. It does not validate:
// call s.Validate first (Put fills the same defaults). A new sensor's silence
// rules count from now. When the Code changes (a rebind) the sensor's window,
// status and alarms are reset; when rules change, the alarms of changed rules
// are dropped. Call Rebind first and persist its clears: Put keeps only the
// alarms whose clear is awaiting Commit.
func (e *Engine) Put(s Sensor) (old Sensor, existed bool) {
	s.defaults(lookupDef(s.Kind))
	rs := e.intern(s.Rules)
	unit := e.internUnit(s.Unit)
	now := e.now().UnixNano()
	sh, h := e.shard(s.ID)
	sh.mu.Lock()
	en := sh.get(h, s.ID)
	if en == nil {
		en = newEntry(e.window)
		en.id, en.since = s.ID, now
		copy(en.key[:], s.ID)
		en.set(&s, unit, rs)
		sh.add(h, en)
		e.addCode(s.Code, s.ID)
		sh.mu.Unlock()
		e.n.Add(1)
		return Sensor{}, false
	}
	old = en.sensor()
	oldRS, oldCode := en.rs, en.code
	en.set(&s, unit, rs)
	switch {
	case oldCode != s.Code:
		e.removeCode(oldCode, s.ID)
		e.addCode(s.Code, s.ID)
		en.head, en.n = 0, 0
		en.value, en.last, en.readings, en.online, en.retired = 0, 0, 0, false, false
		en.since = now
		en.dropAlarms(func(*alarmRec) bool { return true })
	case oldRS != rs:
		en.dropAlarms(func(a *alarmRec) bool {
			i := int(a.rule)
			return i >= len(rs.rules) || i >= len(oldRS.rules) || oldRS.c[i] != rs.c[i]
		})
	}
	sh.mu.Unlock()
	e.release(oldRS)
	return old, true
}

func (en *entry) set(s *Sensor, unit string, rs *ruleSet) {
	en.kind, en.unit, en.rs, en.code = s.Kind, unit, rs, s.Code
	en.version, en.updated = s.Version, nanos(s.Updated)
}

// Remove forgets a sensor and its alarms (call Rebind first to clear them).
func (e *Engine) Remove(id ID) (Sensor, bool) {
	sh, h := e.shard(id)
	sh.mu.Lock()
	en := sh.get(h, id)
	if en == nil {
		sh.mu.Unlock()
		return Sensor{}, false
	}
	s := en.sensor()
	sh.remove(h, en)
	e.removeCode(en.code, id)
	sh.mu.Unlock()
	e.n.Add(-1)
	e.release(en.rs)
	return s, true
}

// Get returns a sensor and its status.
func (e *Engine) Get(id ID) (Sensor, Status, bool) {
	sh, h := e.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	en := sh.get(h, id)
	if en == nil {
		return Sensor{}, Status{}, false
	}
	return en.sensor(), en.status(), true
}

// Recent appends the sensor's window of recent readings to dst, oldest
// first. Times have second resolution and values float32 precision.
func (e *Engine) Recent(id ID, dst []Reading) []Reading {
	sh, h := e.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	en := sh.get(h, id)
	if en == nil || en.n == 0 {
		return dst
	}
	i := en.oldest()
	for range en.n {
		s := en.win[i]
		dst = append(dst, Reading{Sensor: id, Value: float64(s.v), Time: time.Unix(int64(s.t)+epoch, 0).UTC()})
		if i++; i == len(en.win) {
			i = 0
		}
	}
	return dst
}

// Len returns the number of sensors.
func (e *Engine) Len() int { return int(e.n.Load()) }

// ByCode returns the sensors bound to a component.
func (e *Engine) ByCode(code parts.Code) []ID {
	e.codeMu.RLock()
	defer e.codeMu.RUnlock()
	first, ok := e.byCode[code]
	if !ok {
		return nil
	}
	return append([]ID{first}, e.moreByCode[code]...)
}

// Each calls fn for every sensor and its status, in no order, until fn
// returns false. fn runs without any lock held and may call the engine.
func (e *Engine) Each(fn func(Sensor, Status) bool) {
	type pair struct {
		s  Sensor
		st Status
	}
	var buf []pair
	for i := range e.shards {
		sh := &e.shards[i]
		sh.mu.Lock()
		buf = buf[:0]
		for _, en := range sh.m {
			for ; en != nil; en = en.next {
				buf = append(buf, pair{en.sensor(), en.status()})
			}
		}
		sh.mu.Unlock()
		for _, p := range buf {
			if !fn(p.s, p.st) {
				return
			}
		}
	}
}

// Counts returns how many readings were evaluated and rejected, by reason.
func (e *Engine) Counts() Counts {
	var c [nCounts]uint64
	for i := range e.shards {
		sh := &e.shards[i]
		sh.mu.Lock()
		for j := range c {
			c[j] += sh.counts[j]
		}
		sh.mu.Unlock()
	}
	return Counts{c[cEvaluated], c[cUnknown], c[cBadValue], c[cFuture], c[cTooOld], c[cDuplicate], c[cOutOfOrder]}
}

// RestoreStatus sets a sensor's status at load. Silence still counts from
// the load (Put), not from the last reading before the restart.
func (e *Engine) RestoreStatus(s Status) {
	sh, h := e.shard(s.Sensor)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	en := sh.get(h, s.Sensor)
	if en == nil {
		return
	}
	en.value, en.last, en.readings, en.online = s.Value, nanos(s.Time), s.Readings, s.Online
}

func (en *entry) sensor() Sensor {
	return Sensor{
		ID: en.id, Kind: en.kind, Unit: en.unit, Code: en.code, Rules: cloneRules(en.rs.rules),
		Version: en.version, Updated: fromNanos(en.updated),
	}
}

func (en *entry) status() Status {
	return Status{Sensor: en.id, Value: en.value, Time: fromNanos(en.last), Online: en.online, Readings: en.readings}
}

// addCode and removeCode keep the code index; called with the sensor's shard
// locked (lock order: shard, then codeMu).
func (e *Engine) addCode(code parts.Code, id ID) {
	e.codeMu.Lock()
	defer e.codeMu.Unlock()
	if _, ok := e.byCode[code]; !ok {
		e.byCode[code] = id
		return
	}
	e.moreByCode[code] = append(e.moreByCode[code], id)
}

func (e *Engine) removeCode(code parts.Code, id ID) {
	e.codeMu.Lock()
	defer e.codeMu.Unlock()
	more := e.moreByCode[code]
	if first, ok := e.byCode[code]; ok && first == id {
		if len(more) == 0 {
			delete(e.byCode, code)
			return
		}
		e.byCode[code] = more[0]
		more = more[1:]
	} else if i := slices.Index(more, id); i >= 0 {
		more = slices.Delete(more, i, i+1)
	}
	if len(more) == 0 {
		delete(e.moreByCode, code)
	} else {
		e.moreByCode[code] = more
	}
}

// intern returns the shared rule set equal to rules, with one more reference.
func (e *Engine) intern(rules []Rule) *ruleSet {
	if len(rules) > 255 { // alarm records index rules with a byte; Validate allows MaxRules
		rules = rules[:255]
	}
	e.internMu.Lock()
	defer e.internMu.Unlock()
	b := e.keyBuf[:0]
	for i := range rules {
		b = rules[i].appendKey(b)
	}
	e.keyBuf = b
	if rs, ok := e.ruleSets[string(b)]; ok {
		rs.refs++
		return rs
	}
	rs := &ruleSet{key: string(b), rules: cloneRules(rules), refs: 1}
	rs.c = make([]crule, len(rs.rules))
	for i := range rs.rules {
		rs.c[i] = rs.rules[i].compile()
		rs.silence = rs.silence || rs.c[i].kind == kSilence
	}
	e.ruleSets[rs.key] = rs
	return rs
}

func (e *Engine) release(rs *ruleSet) {
	e.internMu.Lock()
	defer e.internMu.Unlock()
	if rs.refs--; rs.refs <= 0 {
		delete(e.ruleSets, rs.key)
	}
}

func (e *Engine) internUnit(u string) string {
	e.internMu.Lock()
	defer e.internMu.Unlock()
	if v, ok := e.units[u]; ok {
		return v
	}
	if len(e.units) < 4096 {
		e.units[u] = u
	}
	return u
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
