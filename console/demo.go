package console

import (
	"embed"
	"io/fs"
)

//go:embed demo
var demoFS embed.FS

// DemoScript is the built-in scenario `reportbot demo` plays: the first two weeks
// of the June campaign in the example files.
var DemoScript, _ = demoFS.ReadFile("demo/scenario.txt")

// DemoFiles holds the scenario's photos.
var DemoFiles, _ = fs.Sub(demoFS, "demo")
