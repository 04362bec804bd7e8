// Package citytwin is the spatial backend of a city operations platform
// (一网统管, 数字城管). The binary is cmd/citytwin; this root package holds
// only repository-wide tests, such as the rule that keeps the core free of
// transport and storage.
package citytwin
