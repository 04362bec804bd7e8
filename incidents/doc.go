// Package incidents models cases (案卷) of digital city management: the
// seven-step closed loop (collect, register, dispatch, handle, report back,
// verify and close, evaluate) as a state machine with roles, the event
// class catalogue, deadlines counted in working time on a work calendar,
// the Router that names the responsible department of a case and records
// why, an in-memory Book of cases, and the evaluation rates (结案率 closure
// rate, 按期结案率 on-time rate).
//
// A case is about a component (Type "component": Class is a component minor
// class of the parts catalogue, Code its 16-digit code when known) or an
// event (Type "event": Class is an event class of the Events catalogue).
// Component and event classes share the 4-digit form (0101 is both a
// water-supply cover and illegal construction), so tables keyed by class
// (responsibility rows, deadline limits) use ClassKey: "component:0101" or
// "event:0101".
//
// The package is core: it does no I/O and knows nothing of HTTP, SQL or
// MQTT. Persistence, notification delivery and the single write path live
// in twin and its adapters.
package incidents
