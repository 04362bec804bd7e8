// Package sensors turns readings from the monitoring devices on city
// components (manhole-cover tilt and gas, water pressure, bridge strain,
// standing water, bin fill level, lamp power) into alarms.
//
// A Sensor has an ID, a Kind from the catalogue (Kinds), a unit, the
// component Code it is bound to and up to MaxRules rules: a threshold with
// hysteresis, a rate of change over a window, or silence (heartbeat lost).
// The Engine keeps every sensor's live Status and a bounded window of recent
// readings in memory (raw readings are not kept: a city keeps them in its
// time-series database) and evaluates readings without allocating.
//
// An alarm is raised once per sensor and rule and stays open until it
// clears; repeats update its count, peak and last value, they never open a
// second alarm. Raises and clears are proposed by Evaluate and Sweep and
// applied by Commit once the caller has persisted them, so a write that fails
// to persist changes nothing in memory (Abort forgets the proposal).
//
// ParseValue and AppendReadings decode the JSON payloads devices publish.
package sensors
