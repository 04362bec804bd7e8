package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"citytwin/store/gpkg"
	"citytwin/store/postgis"
	"citytwin/tokens"
)

const tokenUsage = "token: want 'citytwin token create --role ROLE [--dept CODE] [--ttl 720h]', 'token list' or 'token revoke TOKEN|ID|-', each with --data FILE or --pg URL"

// runToken runs token create, list and revoke. They work while a server
// runs on the same store: a GeoPackage is opened for its tokens table only
// (gpkg.OpenTokens: SQLite's own locking, short transactions), PostGIS as
// any other client; servers cache a token for at most tokens.MaxTTL, so a
// revocation counts everywhere within a second.
func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, tokenUsage)
	}
	switch args[0] {
	case "create":
		return runTokenCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return runTokenList(ctx, args[1:], stdout, stderr)
	case "revoke":
		return runTokenRevoke(ctx, args[1:], os.Stdin, stdout, stderr)
	}
	return fmt.Errorf("%w: %s", errUsage, tokenUsage)
}

// tokenStoreFlags adds --data and --pg to fs.
func tokenStoreFlags(fs interface {
	String(name, value, usage string) *string
}) (data, pg *string) {
	data = fs.String("data", "", "GeoPackage store that keeps the token hashes")
	pg = fs.String("pg", "", "PostGIS database that keeps the token hashes (instead of --data)")
	return data, pg
}

// openTokens opens the token store of --data or --pg.
func openTokens(ctx context.Context, cmd, data, pg string) (tokens.Manager, func(), error) {
	switch {
	case data != "" && pg != "":
		return nil, nil, fmt.Errorf("%w: %s: give --data FILE or --pg URL, not both", errUsage, cmd)
	case pg != "":
		s, err := postgis.Open(ctx, pg)
		if err != nil {
			return nil, nil, err
		}
		if err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, nil, err
		}
		return s, s.Close, nil
	case data != "":
		if _, err := os.Stat(data); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", cmd, err)
		}
		s, err := gpkg.OpenTokens(ctx, data)
		if err != nil {
			return nil, nil, err
		}
		return s, func() { _ = s.Close() }, nil
	}
	return nil, nil, fmt.Errorf("%w: %s: --data FILE or --pg URL is required", errUsage, cmd)
}

func runTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token create", stderr)
	role := fs.String("role", "", "inspector, operator, department or admin")
	dept := fs.String("dept", "", "department code (required for the department role)")
	ttl := fs.Duration("ttl", 0, "lifetime of the token, e.g. 720h (default: it never expires)")
	data, pg := tokenStoreFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: token create: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *role == "" {
		return fmt.Errorf("%w: token create: --role and --data (or --pg) are required", errUsage)
	}
	r, err := tokens.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("%w: token create: %v", errUsage, err)
	}
	if *ttl < 0 {
		return fmt.Errorf("%w: token create: --ttl %v is negative", errUsage, *ttl)
	}
	st, closeStore, err := openTokens(ctx, "token create", *data, *pg)
	if err != nil {
		return err
	}
	defer closeStore()
	secret, t, err := tokens.IssueSpec(ctx, st, tokens.Spec{Role: r, Dept: *dept, TTL: *ttl}, time.Now())
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	fmt.Fprintf(stderr, "created token %s for role %s", t.ID(), t.Role)
	if t.Dept != "" {
		fmt.Fprintf(stderr, " of department %s", t.Dept)
	}
	if !t.Expires.IsZero() {
		fmt.Fprintf(stderr, ", expires %s", t.Expires.Format(time.RFC3339))
	}
	fmt.Fprintln(stderr, "; it is shown once, keep it secret:")
	fmt.Fprintln(stdout, secret)
	return nil
}

// runTokenList prints every token, one a line: ID (a prefix of its hash,
// what token revoke takes), role, department, created, expires, revoked.
func runTokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token list", stderr)
	data, pg := tokenStoreFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: token list: unexpected argument %q", errUsage, fs.Arg(0))
	}
	st, closeStore, err := openTokens(ctx, "token list", *data, *pg)
	if err != nil {
		return err
	}
	defer closeStore()
	ts, err := st.ListTokens(ctx)
	if err != nil {
		return fmt.Errorf("token list: %w", err)
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tDEPT\tCREATED\tEXPIRES\tREVOKED")
	for _, t := range ts {
		dept, expires, revoked := "-", "never", "-"
		if t.Dept != "" {
			dept = t.Dept
		}
		if !t.Expires.IsZero() {
			expires = t.Expires.Format(time.RFC3339)
			if !now.Before(t.Expires) {
				expires += " (expired)"
			}
		}
		if !t.Revoked.IsZero() {
			revoked = t.Revoked.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID(), t.Role, dept, t.Created.Format(time.RFC3339), expires, revoked)
	}
	return tw.Flush()
}

// runTokenRevoke revokes the token named by its secret or its ID; "-"
// reads the secret from stdin, so that it stays out of shell history and
// process lists.
func runTokenRevoke(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("token revoke", stderr)
	data, pg := tokenStoreFlags(fs)
	var refs []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		refs = append(refs, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(refs) != 1 {
		return fmt.Errorf("%w: token revoke: want one TOKEN, ID or - (the token on stdin)", errUsage)
	}
	ref := refs[0]
	if ref == "-" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("%w: token revoke: no token on stdin", errUsage)
		}
		ref = strings.TrimSpace(line)
	}
	st, closeStore, err := openTokens(ctx, "token revoke", *data, *pg)
	if err != nil {
		return err
	}
	defer closeStore()
	t, err := tokens.Revoke(ctx, st, ref, time.Now())
	if err != nil {
		return fmt.Errorf("token revoke: %w", err)
	}
	fmt.Fprintf(stdout, "revoked token %s (role %s) at %s; servers refuse it within %v\n", t.ID(), t.Role, t.Revoked.Format(time.RFC3339), tokens.MaxTTL)
	return nil
}
