package sqlstore

import (
	"strconv"
	"strings"
)

// valuesList is "($1, …, $cols), (…)" for rows rows of cols parameters: the VALUES of
// a multi-row INSERT, numbered as both engines take them.
func valuesList(rows, cols int) string {
	var q strings.Builder
	for i := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteByte('(')
		for c := range cols {
			if c > 0 {
				q.WriteString(", ")
			}
			q.WriteByte('$')
			q.WriteString(strconv.Itoa(i*cols + c + 1))
		}
		q.WriteByte(')')
	}
	return q.String()
}

// plainValuesList is valuesList with plain "?" parameters, which SQLite binds by
// position without looking them up.
func plainValuesList(rows, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
}
