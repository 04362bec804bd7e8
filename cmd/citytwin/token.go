package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"citytwin/tokens"
)

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("%w: token: want 'citytwin token create --role ROLE [--dept CODE] --data FILE'", errUsage)
	}
	fs := newFlags("token create", stderr)
	role := fs.String("role", "", "inspector, department or admin")
	dept := fs.String("dept", "", "department code (required for the department role)")
	data := fs.String("data", "", "GeoPackage store that keeps the token's hash")
	pg := fs.String("pg", "", "PostGIS database that keeps the token's hash (instead of --data)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if (*data == "" && *pg == "") || *role == "" {
		return fmt.Errorf("%w: token create: --role and --data (or --pg) are required", errUsage)
	}
	r, err := tokens.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("%w: token create: %v", errUsage, err)
	}
	if *data != "" {
		if _, err := os.Stat(*data); err != nil {
			return fmt.Errorf("token create: %w", err)
		}
	}
	st, closeStore, err := openStore(ctx, *data, *pg)
	if err != nil {
		return err
	}
	defer closeStore()
	secret, t, err := tokens.Issue(ctx, st, r, *dept, time.Now())
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	fmt.Fprintf(stderr, "created token %s for role %s", t.ID(), t.Role)
	if t.Dept != "" {
		fmt.Fprintf(stderr, " of department %s", t.Dept)
	}
	fmt.Fprintln(stderr, "; it is shown once, keep it secret:")
	fmt.Fprintln(stdout, secret)
	return nil
}
