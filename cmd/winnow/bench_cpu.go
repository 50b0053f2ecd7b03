package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"time"

	"winnow/internal/sqlstore"
)

// The CPU time the benchmarks report: this process's, and that of the PostgreSQL
// backends serving its database when the server runs on this machine.

// backendCPU returns the CPU time so far of each PostgreSQL backend connected to db's
// database, by process ID, when the server runs on this machine (its processes are
// in /proc); nil otherwise, and on SQLite.
func backendCPU(ctx context.Context, db *sqlstore.DB) map[int]time.Duration {
	if db.Dialect() != sqlstore.DialectPostgres {
		return nil
	}
	rows, err := db.SQL().QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	cpu := make(map[int]time.Duration)
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) != nil {
			return nil
		}
		if d, ok := procCPU(strconv.Itoa(pid)); ok {
			cpu[pid] = d
		}
	}
	if rows.Err() != nil || len(cpu) == 0 {
		return nil
	}
	return cpu
}

// cpuSince sums what each process of now used since before (all of it for one that
// was not there before). Backends that exited meanwhile are not counted.
func cpuSince(before, now map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, c := range now {
		d += c - before[pid]
	}
	return d
}

// processCPU is the CPU time (user and system) this process has used, where the
// system tells it (Linux: /proc/self/stat, in ticks of 10 ms), 0 elsewhere.
func processCPU() time.Duration {
	d, _ := procCPU("self")
	return d
}

// procCPU is the CPU time (user and system) process pid (or "self") has used, from
// /proc/PID/stat; ok is false where there is no such file.
func procCPU(pid string) (d time.Duration, ok bool) {
	raw, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return 0, false
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0, false
	}
	var ticks int64
	for _, v := range f[11:13] { // utime and stime, the line's fields 14 and 15
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, true
}
