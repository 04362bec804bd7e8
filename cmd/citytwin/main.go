// Command citytwin is the spatial backend of a city operations platform:
// it generates, imports and serves a coded city (components, grids) from an
// embedded GeoPackage store.
//
//	citytwin serve  [--data city.gpkg] [--addr 127.0.0.1:8080]
//	citytwin gen    --out city.gpkg [--components N] [--grids M] [--seed S]
//	citytwin import --data city.gpkg --map "class=0113,owner=@Owner" file.geojson ...
//	citytwin token create --role ROLE [--dept CODE] [--ttl 720h] --data city.gpkg
//	citytwin token list --data city.gpkg
//	citytwin token revoke TOKEN|ID --data city.gpkg
//	citytwin copy --data city.gpkg --pg postgres://...
//	citytwin migrate --pg postgres://... | --data city.gpkg
//	citytwin export --pg postgres://... --out city.gpkg
//	citytwin simulate --sensors N --rate R [--mqtt URL] [--api URL --token T]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `citytwin: the spatial backend of a city operations platform

Usage:
  citytwin serve  [--data FILE] [--addr HOST:PORT]   serve a city (a demo city when --data is absent)
  citytwin gen    --out FILE [--components N] [--grids M] [--seed S]
                                                     generate a synthetic city into a GeoPackage
  citytwin import --data FILE [--map MAPPING] [--format F] SOURCE...
                                                     import GeoJSON, GeoJSON sequences or CSV
  citytwin token create --role ROLE [--dept CODE] [--ttl 720h] (--data FILE | --pg URL)
                                                     create an API token (printed on the last line)
  citytwin token list (--data FILE | --pg URL)       list API tokens (id, role, dept, created, expires, revoked)
  citytwin token revoke TOKEN|ID|- (--data FILE | --pg URL)
                                                     revoke a token (servers refuse it within a second)
  citytwin copy   --data FILE --pg URL               copy a GeoPackage city into an empty PostGIS database
  citytwin export  --pg URL --out FILE               write the database back to one GeoPackage
  citytwin migrate (--pg URL | --data FILE)          apply the schema migrations (serve, import and copy do at start)
  citytwin simulate --sensors N --rate R [--mqtt URL] [--api URL --token T]
                                                     bind simulated sensors and publish their readings

serve, import and token take --pg URL instead of --data FILE to use PostgreSQL + PostGIS.

Run 'citytwin COMMAND -h' for the flags of a command.
`

// errUsage marks an error that is the user's: exit code 2 and the usage.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "citytwin:", err)
		}
		if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no command given", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "gen":
		return runGen(ctx, rest, stdout, stderr)
	case "import":
		return runImport(ctx, rest, stdout, stderr)
	case "token":
		return runToken(ctx, rest, stdout, stderr)
	case "copy":
		return runCopy(ctx, rest, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr)
	case "simulate":
		return runSimulate(ctx, rest, stdout, stderr)
	case "export":
		return runExport(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("citytwin "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args and wraps flag errors as usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
	}
	return nil
}
