package mqtt

import "strings"

// shareGroup is the shared-subscription group of every citytwin replica.
const shareGroup = "citytwin"

// ReadingsTopic is the topic of batched readings: {prefix}/readings.
func ReadingsTopic(prefix string) string { return orDefault(prefix) + "/readings" }

// SensorTopic is the topic of one sensor's readings: {prefix}/readings/{id}.
func SensorTopic(prefix, sensor string) string { return orDefault(prefix) + "/readings/" + sensor }

// DispatchTopic is the topic of a department's dispatch notifications:
// {prefix}/dispatch/{dept}.
func DispatchTopic(prefix, dept string) string { return orDefault(prefix) + "/dispatch/" + dept }

// filters are the subscription filters of the Subscriber.
func filters(prefix string, shared bool) []string {
	f := []string{SensorTopic(prefix, "+"), ReadingsTopic(prefix)}
	if shared {
		for i := range f {
			f[i] = "$share/" + shareGroup + "/" + f[i]
		}
	}
	return f
}

// splitTopic tells a readings topic apart: batch is true for
// {prefix}/readings, sensor is set for {prefix}/readings/{sensor}, ok is
// false for anything else.
func splitTopic(prefix, topic string) (sensor string, batch, ok bool) {
	rest, found := strings.CutPrefix(topic, prefix)
	if !found {
		return "", false, false
	}
	rest, found = strings.CutPrefix(rest, "/readings")
	if !found {
		return "", false, false
	}
	if rest == "" {
		return "", true, true
	}
	sensor, found = strings.CutPrefix(rest, "/")
	if !found || sensor == "" || strings.Contains(sensor, "/") {
		return "", false, false
	}
	return sensor, false, true
}

// validTopic reports whether topic can be published to.
func validTopic(topic string) bool {
	return topic != "" && len(topic) <= 65535 && !strings.ContainsAny(topic, "+#\x00")
}

func orDefault(prefix string) string {
	if prefix == "" {
		return DefaultPrefix
	}
	return strings.TrimSuffix(prefix, "/")
}
