//go:build !race

package main

// raceDetector reports whether the tests run under -race, where SQLite is about 20
// times slower: load tests size themselves down.
const raceDetector = false
