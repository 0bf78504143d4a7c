// Package pgtest gives tests a PostgreSQL database of their own: Start
// returns the DSN of a new, empty database, dropped when the test ends.
//
// The databases live on the server KANT_TEST_POSTGRES_DSN names when it is
// set; otherwise on a throwaway cluster that the first Start of the test
// binary creates with Debian's PostgreSQL binaries
// (/usr/lib/postgresql/*/bin): initdb into a temporary directory, fsync
// off, listening on a free 127.0.0.1 port and a unix socket in that
// directory, and run as an unprivileged user when the tests run as root
// (PostgreSQL refuses to run as root). The server is started by the test
// binary and dies with it (SIGINT on the binary's exit); a later Start
// removes the directories left by earlier binaries. When no binaries are
// found, Start skips the test, or fails it when KANT_REQUIRE_TOOLS=1.
//
// It is not a _test.go file so that the tests of other packages (cmd/kant)
// can use it. It imports pgx and the standard library, nothing of kant.
package pgtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the variable that points the tests at an existing server.
// Its role must be allowed to CREATE DATABASE.
const EnvDSN = "KANT_TEST_POSTGRES_DSN"

var (
	once      sync.Once
	shared    string // the DSN of the server's maintenance database
	sharedErr error
	skip      string // why there is no server, when there is none
)

// Start returns the DSN of a new database, dropped at the end of t.
func Start(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if dsn := os.Getenv(EnvDSN); dsn != "" {
			shared = dsn
			return
		}
		shared, skip, sharedErr = startCluster()
	})
	switch {
	case sharedErr != nil:
		t.Fatalf("pgtest: %v", sharedErr)
	case skip != "" && os.Getenv("KANT_REQUIRE_TOOLS") == "1":
		t.Fatalf("pgtest: %s (KANT_REQUIRE_TOOLS=1)", skip)
	case skip != "":
		t.Skipf("pgtest: %s", skip)
	}
	return createDatabase(t, shared)
}

// createDatabase creates kant_test_<random> on the server of dsn and
// returns its DSN; it is dropped, with any session left on it, at cleanup.
func createDatabase(t testing.TB, dsn string) string {
	t.Helper()
	ctx := context.Background()
	var b [6]byte
	rand.Read(b[:])
	name := "kant_test_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("pgtest: connect to drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(dsn, name)
}

// withDatabase returns dsn (a URL or key=value pairs) naming database db.
func withDatabase(dsn, db string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + db
		return u.String()
	}
	return dsn + " dbname=" + db
}

// binDir returns the newest /usr/lib/postgresql/<version>/bin holding
// initdb and postgres, or "" when there is none.
func binDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			return d
		}
	}
	return ""
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// dirPrefix names the directories of the clusters pgtest starts.
const dirPrefix = "kant-pgtest-"

// startCluster creates and starts a cluster for this test binary and
// returns the DSN of its postgres database, or why there is none.
func startCluster() (dsn, skip string, err error) {
	bin := binDir()
	if bin == "" {
		return "", "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql), and " + EnvDSN + " is not set", nil
	}
	removeStale()
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return "", "", err
	}
	cred, err := credential(dir)
	if err != nil {
		return "", "", err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "kant", "--auth=trust",
		"--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("initdb: %v\n%s", err, out)
	}
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return "", "", err
		}
		err = startServer(bin, dir, data, port, cred)
		if err == nil {
			return fmt.Sprintf("postgres://kant@127.0.0.1:%d/postgres?sslmode=disable", port), "", nil
		}
		if attempt == 2 {
			return "", "", err
		}
	}
}

// credential returns who runs the server: nobody in particular (nil) for
// an unprivileged test, otherwise the postgres user, or nobody, who is
// then given dir.
func credential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var u *user.User
	var err error
	for _, name := range []string{"postgres", "nobody"} {
		if u, err = user.Lookup(name); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("running as root and neither user postgres nor nobody exists: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServer runs postgres on port and returns once it accepts
// connections, as its log says, or with its log when it stopped instead.
func startServer(bin, dir, data string, port int, cred *syscall.Credential) error {
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=128MB", "-c", "logging_collector=off")
	// The server stops when the test binary exits, however it exits.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGINT, Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	ready := make(chan error, 1)
	go func() {
		var log strings.Builder
		report := ready
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if report != nil {
				log.WriteString(line + "\n")
				if strings.Contains(line, "database system is ready to accept connections") {
					report <- nil
					report = nil
				}
			}
		}
		if report != nil {
			report <- fmt.Errorf("postgres stopped before accepting connections:\n%s", log.String())
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case err := <-ready:
		if err != nil {
			cmd.Wait()
			return err
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		return errors.New("postgres did not start within 60s")
	}
	go cmd.Wait() // reap it when it stops
	return nil
}

// removeStale removes the cluster directories of test binaries that have
// exited (their servers stopped with them).
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == nil {
			continue // its binary is still running
		}
		if isFile(filepath.Join(d, "data", "postmaster.pid")) {
			// The server may still be shutting down; the next binary
			// removes it.
			if pb, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid")); err == nil {
				if spid, err := strconv.Atoi(strings.SplitN(string(pb), "\n", 2)[0]); err == nil && syscall.Kill(spid, 0) == nil {
					continue
				}
			}
		}
		os.RemoveAll(d)
	}
}
