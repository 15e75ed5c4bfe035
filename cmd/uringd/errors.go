package main

import (
	"flag"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"

	"github.com/uringd/uringd"
)

// fieldNames maps the uringd.Config fields the flags set to their flag
// names: a user who typed -max-headers is told about -max-headers, not
// Config.MaxHeaders. It is derived from the flags themselves (a flag's
// value points at the field it sets), so a new flag needs no entry here.
func fieldNames(fs *flag.FlagSet, cfg *uringd.Config) map[string]string {
	byAddr := map[uintptr]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if v := reflect.ValueOf(f.Value); v.Kind() == reflect.Pointer {
			byAddr[v.Pointer()] = f.Name
		}
	})
	names := map[string]string{}
	c := reflect.ValueOf(cfg).Elem()
	for i := 0; i < c.NumField(); i++ {
		if name, ok := byAddr[c.Field(i).Addr().Pointer()]; ok {
			names[c.Type().Field(i).Name] = "-" + name
		}
	}
	return names
}

var configField = regexp.MustCompile(`Config\.(\w+)`)

// errorText writes err as one line that says "uringd:" once (the layers
// below prefix their own errors with it, or with "static:"), prefixed by what failed (a flag,
// or "cannot start"), and with Config fields named by their flags.
func errorText(w io.Writer, names map[string]string, what string, err error) {
	msg := strings.ReplaceAll(err.Error(), "uringd: ", "")
	msg = strings.ReplaceAll(msg, "static: ", "")
	msg = configField.ReplaceAllStringFunc(msg, func(m string) string {
		if name, ok := names[m[len("Config."):]]; ok {
			return name
		}
		return m
	})
	if what != "" {
		msg = what + ": " + msg
	}
	fmt.Fprintln(w, "uringd: "+msg)
}
