package web

// Config is the config file's [web] section: where the dashboard is served.
type Config struct {
	// Listen is the address it serves on ("127.0.0.1:8080"); "" turns it off.
	Listen string `toml:"listen"`
	// URL is how admins reach it, as sign-in links start: the reverse proxy's
	// https address when there is one.
	URL string `toml:"url"`
}

// Check fills in defaults; nothing in the section can be wrong on its own.
func (c *Config) Check(string) []string {
	if c.URL == "" && c.Listen != "" {
		c.URL = "http://" + c.Listen
	}
	return nil
}
