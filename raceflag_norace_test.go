//go:build !race

package cancellation_test

// raceEnabled is true when the tests run under the race detector, which
// makes them several times slower: the longest tests then do less.
const raceEnabled = false
