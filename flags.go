package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// flagsFirst moves the flags in args (args[0] is the program's name) before
// the positional arguments, so that "hotserve site -p 3000" means what
// "hotserve -p 3000 site" does. urfave/cli v2 parses with the standard flag
// package, which stops at the first argument that is not a flag, and has no
// option to go on; people type the folder first all the same.
//
// A flag that takes a value (in flags, by any of its names) keeps the
// argument after it, unless it is written --flag=value. "--" ends the flags:
// what follows stays positional, and "--" is kept in front of the positional
// arguments so that a folder named "-x" is not read as a flag. A flag this
// function does not know is moved as if it took no value; the parser then
// reports it. A flag that needs a value and is given none keeps the parser's
// "flag needs an argument" error: the positional arguments are dropped
// rather than moved behind it, where one would become its value ("hotserve
// site --proxy" must not proxy to http://site). A help flag wins over the
// rest: its arguments are dropped too,
// since "hotserve site -h" asks for hotserve's help, not help on a command
// named "site". The shell-completion flag stays last, where urfave/cli looks
// for it.
func flagsFirst(args []string, flags []cli.Flag) []string {
	if len(args) < 2 {
		return args
	}
	const completion = "--generate-bash-completion"
	takesValue := map[string]bool{}
	for _, f := range flags {
		if d, ok := f.(cli.DocGenerationFlag); ok && d.TakesValue() {
			for _, n := range f.Names() {
				takesValue[n] = true
			}
		}
	}
	rest := args[1:]
	complete := rest[len(rest)-1] == completion
	if complete {
		rest = rest[:len(rest)-1]
	}
	out := []string{args[0]}
	var positional []string
	ended, help, dangling := false, false, false
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			ended = true
			positional = append(positional, rest[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		out = append(out, a)
		name, _, hasValue := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		if !hasValue && (name == "h" || name == "help") {
			help = true
		}
		if !hasValue && takesValue[name] {
			if i+1 == len(rest) {
				dangling = true
				break
			}
			i++
			out = append(out, rest[i])
		}
	}
	switch {
	case help, dangling:
	case ended:
		out = append(append(out, "--"), positional...)
	default:
		out = append(out, positional...)
	}
	if complete {
		out = append(out, completion)
	}
	return out
}

// duration is the value of a duration flag. The standard flag package's own
// says only "parse error" for "--debounce 5"; this one passes on why, as
// time.ParseDuration words it ("missing unit in duration"), the same words
// the environment variable gets.
type duration time.Duration

func (d *duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = duration(v)
	return nil
}

func (d *duration) String() string { return time.Duration(*d).String() }

// durationFlag is a duration flag with default value def.
func durationFlag(name string, def time.Duration, usage string) *cli.GenericFlag {
	v := duration(def)
	return &cli.GenericFlag{Name: name, Value: &v, EnvVars: []string{envName(name)}, Usage: usage}
}

// getDuration reads a flag made by durationFlag.
func getDuration(c *cli.Context, name string) time.Duration {
	if d, ok := c.Generic(name).(*duration); ok {
		return time.Duration(*d)
	}
	return 0
}

// envName is the environment variable that sets the flag name.
func envName(name string) string {
	return "HOTSERVE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Parse errors name the flag in one of these ways: the flag package's
// "flag provided but not defined: -prot", "flag needs an argument: -p" and
// "invalid value "5" for flag -debounce: ...", and urfave/cli's "... from
// environment variable "HOTSERVE_DEBOUNCE" as value for flag debounce: ...".
var (
	unknownFlag = regexp.MustCompile(`^flag provided but not defined: -+(\S+)`)
	badValue    = regexp.MustCompile(`(?:for flag|needs an argument:) -*([a-z-]+)(?::|$)`)
)

// valueExamples show a flag's value written right, for the hint after a
// value that does not parse or is missing.
var valueExamples = map[string]string{
	"port":     "--port takes a number from 0 to 65535, e.g. --port 3000",
	"p":        "-p takes a number from 0 to 65535, e.g. -p 3000",
	"debounce": "write a duration with its unit, e.g. --debounce 100ms (units: ms, s)",
	"poll":     "write a duration with its unit, e.g. --poll 500ms (units: ms, s)",
	"proxy":    "give the app's address, e.g. --proxy localhost:3000, or a prefix and address, e.g. --proxy /api=localhost:3000",
	"watch":    "give a folder, e.g. --watch ./templates",
	"mount":    "write it as /PREFIX=DIR, e.g. --mount /vendor=./node_modules/some-lib",
}

// usageHint says how to fix a command line the parser refused: the flag
// meant, for a misspelt one, or how its value is written.
func usageHint(err error, flags []cli.Flag) string {
	msg := err.Error()
	if m := unknownFlag.FindStringSubmatch(msg); m != nil {
		if near := nearestFlag(m[1], flags); near != "" {
			return fmt.Sprintf("did you mean %s? run \"hotserve --help\" to see the flags", near)
		}
	}
	if m := badValue.FindStringSubmatch(msg); m != nil && valueExamples[m[1]] != "" {
		return valueExamples[m[1]]
	}
	return "run \"hotserve --help\" to see the flags"
}

// nearestFlag returns the flag, written with its dashes, whose name is
// within two edits of name, or "" if none is.
func nearestFlag(name string, flags []cli.Flag) string {
	best, bestDist := "", 3
	for _, f := range append(slices.Clip(flags), cli.HelpFlag, cli.VersionFlag) {
		for _, n := range f.Names() {
			if d := editDistance(name, n); d < bestDist && d < len(n) {
				best, bestDist = n, d
			}
		}
	}
	switch {
	case best == "":
		return ""
	case len(best) == 1:
		return "-" + best
	}
	return "--" + best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
