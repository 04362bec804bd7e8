package sensors

import (
	"strconv"
	"strings"
	"time"

	"citytwin/parts"
)

// AlarmState is the state of an alarm.
type AlarmState string

// Alarm states.
const (
	AlarmOpen    AlarmState = "open"
	AlarmCleared AlarmState = "cleared"
)

// Alarm is raised once per sensor and rule and stays open until it clears.
// Repeats while it is open update Count, Peak, Value and Updated, they never
// open a second alarm. Peak is the most extreme value of the breach: the
// highest value of an above threshold, the lowest of a below threshold, the
// largest absolute change of a rate rule and the longest silence in seconds.
type Alarm struct {
	ID       string     `json:"id"` // AlarmID(Sensor, Rule)
	Sensor   ID         `json:"sensor"`
	Code     parts.Code `json:"code"`
	Kind     Kind       `json:"kind"`
	Rule     int        `json:"rule"`
	RuleKind RuleKind   `json:"ruleKind"`
	State    AlarmState `json:"state"`
	Raised   time.Time  `json:"raised"`
	Updated  time.Time  `json:"updated"`
	Cleared  time.Time  `json:"cleared,omitzero"`
	Count    int        `json:"count"`
	Peak     float64    `json:"peak"`
	Value    float64    `json:"value"`
	Retired  bool       `json:"retired,omitempty"` // the bound component was retired
	Reason   string     `json:"reason"`            // why it was raised or cleared
	Version  uint64     `json:"version"`
}

// AlarmID returns the id of the alarm of a sensor's rule: "<sensor>#<rule>".
// A rule that raises again after clearing reuses the id with a higher Version.
func AlarmID(sensor ID, rule int) string {
	return string(sensor) + "#" + strconv.Itoa(rule)
}

// parseAlarmID splits an AlarmID.
func parseAlarmID(s string) (ID, int, bool) {
	i := strings.LastIndexByte(s, '#')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil || n < 0 || n > 255 {
		return "", 0, false
	}
	return ID(s[:i]), n, true
}

// Status is a sensor's live state: its last value and time, whether it is
// online (it has reported and is not silent) and how many readings it
// accepted.
type Status struct {
	Sensor   ID        `json:"sensor"`
	Value    float64   `json:"value"`
	Time     time.Time `json:"time,omitzero"`
	Online   bool      `json:"online"`
	Readings uint64    `json:"readings"`
}

// TransitionType is what happened to an alarm.
type TransitionType uint8

// Transition types. Raised and Cleared are proposals that the caller persists
// and then applies with Engine.Commit; Updated is applied at once.
const (
	Raised TransitionType = iota + 1
	Updated
	Cleared
)

// String returns "raised", "updated" or "cleared".
func (t TransitionType) String() string {
	switch t {
	case Raised:
		return "raised"
	case Updated:
		return "updated"
	case Cleared:
		return "cleared"
	}
	return "unknown"
}

// Transition is a change of an alarm; Alarm is the alarm after the change.
type Transition struct {
	Type  TransitionType
	Alarm Alarm
}
