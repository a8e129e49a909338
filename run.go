package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/rs/zerolog"

	"reportbot/alert"
	"reportbot/web"
	"reportbot/wechat"
)

// wechatTransport replaces the HTTP transport of the WeChat client; tests point
// it at a fake server. Nil in production.
var wechatTransport http.RoundTripper

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "用法：reportbot run [参数]\n\n"+
			"用机器人的微信号登录网页版微信，在设置文件里的群中运行：发提醒、收材料、回答查询。\n"+
			"第一次运行时在终端显示二维码（同时写到数据目录的 "+wechat.QRFile+"），用机器人的微信号扫码登录；\n"+
			"登录信息保存在数据目录，重启时先免扫码登录，不行再显示二维码。\n\n参数：\n")
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "config.toml", "设置文件（从 config.example.toml 复制后修改）")
	schedulePath := fs.String("schedule", "", "日程文件（默认：设置文件里的 schedule）")
	dataDir := fs.String("data", "", "数据目录：数据库、登录信息、二维码、导出文件（默认：设置文件里的 data_dir）")
	logLevel := fs.String("log-level", "info", "日志级别：debug、info、warn、error（日志写到 stderr）")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if _, err := os.Stat(*configPath); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("找不到设置文件 %s：先复制一份示例再修改（cp config.example.toml %s），或用 --config 指定", *configPath, *configPath)
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	f, err := loadFiles(*configPath, *schedulePath)
	if err != nil {
		return err
	}
	cfg := f.config
	dir := f.dataDir(*dataDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	var alerter wechat.Alerter
	if cfg.Alert.Webhook != "" {
		alerter = &alert.Webhook{URL: cfg.Alert.Webhook, Format: cfg.Alert.Format}
	}
	chat := wechat.New(wechat.Options{
		Group: cfg.Bot.Group, DataDir: dir, Transport: wechatTransport, QR: stdout, Alert: alerter,
		Interval: cfg.Wechat.SendInterval.Duration, Jitter: cfg.Wechat.SendJitter.Duration,
		MaxInterval: cfg.Wechat.MaxSendInterval.Duration, MaxMedia: cfg.MaxMedia(),
		AcceptFriends: cfg.Wechat.AcceptFriends, Admins: cfg.Bot.Admins, Logger: log.With().Str("component", "wechat").Logger(),
	})
	// The store first: a second instance fails here at once, before any scan.
	app, err := OpenApp(ctx, AppOptions{Config: cfg, Schedule: f.schedule, LoadSchedule: f.loadSchedule,
		DataDir: dir, Chat: chat, Now: timeNow, Logger: log, Async: true})
	if err != nil {
		return err
	}
	defer app.Close()
	if cfg.Web.Listen != "" {
		// Up before the login, so that the QR code can be scanned from the status page.
		srv, err := app.Dashboard(cfg, f.schedulePath, func() web.Status {
			st := web.Status{LastMessage: chat.LastMessage(), QR: chat.QR()}
			switch {
			case chat.Connected():
				st.WeChat = "已连接"
			case st.QR != nil:
				st.WeChat = "等待扫码"
			default:
				st.WeChat = "未连接，正在登录"
			}
			return st
		})
		if err != nil {
			return err
		}
		if err := serveDashboard(ctx, cfg.Web.Listen, srv, log); err != nil {
			return err
		}
	}
	log.Info().Str("group", cfg.Bot.Group).Str("data", dir).Msg("logging in to WeChat")
	if err := chat.Login(ctx); err != nil {
		return fmt.Errorf("登录微信：%w", err)
	}
	errs := make(chan error, 1)
	go func() { errs <- app.Run(ctx) }()
	if f.schedulePath != "" {
		go func() {
			if err := watchFile(ctx, f.schedulePath, 500*time.Millisecond, func() { app.ScheduleChanged(ctx) }); err != nil {
				log.Warn().Err(err).Msg("schedule edits take effect on 重载 or a restart only")
			}
		}()
	}
	err = chat.Run(ctx, app.Bot)
	if ctx.Err() == nil {
		// The adapter gave up (a refused login): stop the scheduler too.
		return fmt.Errorf("微信连接结束：%w", err)
	}
	return errors.Join(err, <-errs)
}

// serveDashboard listens at once (so a taken port fails the start) and serves
// until ctx ends.
func serveDashboard(ctx context.Context, addr string, h http.Handler, log zerolog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("看板的地址 %s 用不了（%w）：改设置文件 [web] listen，或写 \"\" 关闭看板", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("dashboard")
		}
	}()
	log.Info().Str("addr", ln.Addr().String()).Msg("dashboard: admins get a sign-in link with 看板")
	return nil
}
