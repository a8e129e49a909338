module reportbot

go 1.26

require (
	github.com/6tail/lunar-go v1.4.6
	github.com/BurntSushi/toml v1.6.0
	github.com/eatmoreapple/openwechat v1.4.10
	github.com/mattn/go-isatty v0.0.20
	github.com/mdp/qrterminal/v3 v3.2.1
	github.com/robfig/cron/v3 v3.0.1
	github.com/rs/zerolog v1.35.1
	go.etcd.io/bbolt v1.5.0
	rsc.io/qr v0.2.0
)

require (
	github.com/mattn/go-colorable v0.1.14 // indirect
	golang.org/x/sys v0.45.0 // indirect
	golang.org/x/term v0.13.0 // indirect
)
