package jobs

import (
	"crypto/sha256"
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// This file holds what riverRows needs to write unique jobs as River v0.51.2 writes
// them (its internal/dbunique): for UniqueOpts{ByArgs: true} and nothing else, the
// only uniqueness the planners ask for (send and opt-out jobs), the row's unique_key
// is the SHA-256 of "&kind=<kind>&args=<args>", args being the job's encoded args
// with their top-level keys sorted, and its unique_states the bitmask of River's
// default unique states. River adds nothing to the metadata of unique jobs. Its
// insert then skips a job whose key is held by a row in one of those states: the
// partial unique index river_job_unique_idx covers only such rows, and the INSERT's
// ON CONFLICT names it (riverRows.insertSQL). TestRiverRowsAsRiverWrites compares
// keys, bitmasks and what a second insert does with River's own.

// uniqueByArgsOnly reports whether o asks for uniqueness by kind and args in River's
// default states, the one form riverRows reproduces.
func uniqueByArgsOnly(o river.UniqueOpts) bool {
	rest := o
	rest.ByArgs = false
	return o.ByArgs && uniqueOptsEmpty(rest)
}

// riverUniqueStatesDefault is River's unique_states for jobs whose UniqueOpts set no
// ByState: its default states (all but cancelled and discarded) as a bitmask.
var riverUniqueStatesDefault = riverUniqueStates(rivertype.UniqueOptsByStateDefault())

// riverUniqueStates is states as River's unique_states bitmask: available is bit 0
// (the least significant), then cancelled, completed, discarded, pending, retryable,
// running, and scheduled at bit 7, the order of the checks in its unique index.
func riverUniqueStates(states []rivertype.JobState) byte {
	order := []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted,
		rivertype.JobStateDiscarded, rivertype.JobStatePending, rivertype.JobStateRetryable,
		rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}
	var mask byte
	for _, s := range states {
		if i := slices.Index(order, s); i >= 0 {
			mask |= 1 << i
		}
	}
	return mask
}

// riverUniqueKey is the unique_key River gives a job of kind whose args encode as
// encoded, unique by args; false when River would build it otherwise than here
// reproduces: args with fields tagged `river:"unique"` (only those count), args not
// a struct, or args that encode themselves (their keys might repeat, and River keeps
// the first of a repeated key), and encodings not an object as encoding/json writes
// it (compact).
func riverUniqueKey(args river.JobArgs, kind string, encoded []byte) ([]byte, bool) {
	if !riverUniqueByAllArgs(reflect.TypeOf(args)) {
		return nil, false
	}
	fields, ok := riverArgsFields(encoded)
	if !ok {
		return nil, false
	}
	slices.SortFunc(fields, func(a, b riverArgsField) int { return strings.Compare(a.key, b.key) })
	b := make([]byte, 0, len("&kind=&args=")+len(kind)+len(encoded)+8)
	b = append(b, "&kind="...)
	b = append(b, kind...)
	b = append(b, "&args={"...)
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		if f.quoted != nil {
			b = append(b, f.quoted...)
		} else {
			b = appendRiverUniqueJSONKey(b, f.key)
		}
		b = append(b, ':')
		b = append(b, f.value...)
	}
	b = append(b, '}')
	sum := sha256.Sum256(b)
	return sum[:], true
}

// riverArgsField is one top-level member of encoded args.
type riverArgsField struct {
	// key is the member's name; quoted is how River writes it in a unique key,
	// when that is how the args write it (nil when appendRiverUniqueJSONKey must).
	key    string
	quoted []byte
	// value is the member's value as encoded.
	value []byte
}

// riverArgsFields splits encoded, a compact JSON object, into its members; false if
// it is not one (whitespace outside strings included, which encoding/json never
// writes).
func riverArgsFields(encoded []byte) ([]riverArgsField, bool) {
	n := len(encoded)
	if n < 2 || encoded[0] != '{' || encoded[n-1] != '}' {
		return nil, false
	}
	if n == 2 {
		return nil, true
	}
	fields := make([]riverArgsField, 0, 8)
	for i := 1; ; {
		end := skipJSONString(encoded, i)
		if end < 0 || end >= n || encoded[end] != ':' {
			return nil, false
		}
		f := riverArgsField{quoted: encoded[i:end]}
		for _, c := range f.quoted[1 : len(f.quoted)-1] {
			if c < ' ' || c > 0x7f || c == '\\' {
				f.quoted = nil
				break
			}
		}
		if f.quoted != nil {
			f.key = string(f.quoted[1 : len(f.quoted)-1])
		} else if json.Unmarshal(encoded[i:end], &f.key) != nil {
			return nil, false
		}
		v := end + 1
		vend := skipJSONValue(encoded, v)
		if vend <= v {
			return nil, false
		}
		f.value = encoded[v:vend]
		fields = append(fields, f)
		switch {
		case vend == n-1:
			return fields, true
		case encoded[vend] != ',':
			return nil, false
		}
		i = vend + 1
	}
}

// skipJSONString is the index after the JSON string that starts at b[i], or -1.
func skipJSONString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipJSONValue is the index of the ',' or closing bracket that ends the compact
// JSON value starting at b[i], or -1.
func skipJSONValue(b []byte, i int) int {
	depth := 0
	for j := i; j < len(b); {
		switch b[j] {
		case '"':
			if j = skipJSONString(b, j); j < 0 {
				return -1
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return j
			}
			depth--
		case ',':
			if depth == 0 {
				return j
			}
		case ' ', '\t', '\n', '\r':
			return -1
		}
		j++
	}
	return -1
}

// appendRiverUniqueJSONKey appends key to b as River writes keys into the args of a
// unique key: between quotes as it is, unless it holds a control byte, a byte above
// 0x7f, '"' or '\', when encoding/json encodes it.
func appendRiverUniqueJSONKey(b []byte, key string) []byte {
	for i := range len(key) {
		if c := key[i]; c < ' ' || c > 0x7f || c == '"' || c == '\\' {
			encoded, _ := json.Marshal(key) // a string always encodes
			return append(b, encoded...)
		}
	}
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"')
}

// riverUniqueByAllArgsCache holds riverUniqueByAllArgs' answer per args type.
var riverUniqueByAllArgsCache sync.Map // reflect.Type → bool

// riverUniqueByAllArgs reports whether River keys a unique job of args type t on all
// its encoded args, and encoding/json gives them without repeated keys: t is a
// struct (or a pointer to one) that neither encodes itself nor has a field, at any
// depth, tagged `river:"unique"`.
func riverUniqueByAllArgs(t reflect.Type) bool {
	if v, ok := riverUniqueByAllArgsCache.Load(t); ok {
		return v.(bool)
	}
	ok := true
	marshaler := reflect.TypeFor[json.Marshaler]()
	textMarshaler := reflect.TypeFor[encoding.TextMarshaler]()
	if t.Implements(marshaler) || t.Implements(textMarshaler) ||
		reflect.PointerTo(t).Implements(marshaler) || reflect.PointerTo(t).Implements(textMarshaler) {
		ok = false
	}
	s := t
	if s.Kind() == reflect.Pointer {
		s = s.Elem()
	}
	if s.Kind() != reflect.Struct || riverUniqueTagged(s, map[reflect.Type]bool{}) {
		ok = false
	}
	riverUniqueByAllArgsCache.Store(t, ok)
	return ok
}

// riverUniqueTagged reports whether struct type t has an exported field tagged
// `river:"unique"` (among other comma-separated values), in it or in the structs
// its exported fields hold, as River looks for them.
func riverUniqueTagged(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		if tag, ok := f.Tag.Lookup("river"); ok {
			for v := range strings.SplitSeq(tag, ",") {
				if strings.TrimSpace(v) == "unique" {
					return true
				}
			}
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && riverUniqueTagged(ft, seen) {
			return true
		}
	}
	return false
}
