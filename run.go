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
	"sync"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/dingtalk"
	"reportbot/store"
	"reportbot/wechat"
	"reportbot/wecom"
)

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "用法：reportbot run [参数]\n\n"+
			"在设置文件里的群中运行：发提醒、收材料、回答查询。平台由 [bot] transport 决定：\n"+
			"· wechat（默认）：用机器人的微信号登录网页版微信。第一次运行时在终端显示二维码（同时写到数据目录的 "+wechat.QRFile+"），\n"+
			"  用机器人的微信号扫码登录；登录信息保存在数据目录，重启时先免扫码登录，不行再显示二维码。\n"+
			"· dingtalk：钉钉企业内部应用机器人（Stream 模式），凭证写在 [dingtalk]，密钥也可放在环境变量 "+dingtalk.SecretEnv+"。\n"+
			"· wecom：企业微信智能机器人（API 模式，长连接），凭证写在 [wecom]，密钥也可放在环境变量 "+wecom.SecretEnv+"。\n\n参数：\n")
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
	f, err := loadFiles(*configPath, *schedulePath)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel, f.schedule.Location)
	if err != nil {
		return err
	}
	cfg := f.config
	dir := f.dataDir(*dataDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	tr, wiring, err := newTransport(f.settings, dir, stdout, log, f.now)
	if err != nil {
		return err
	}
	// The store first: a second instance fails here at once, before any scan.
	o := AppOptions{Config: cfg, Files: f.schedules, Reload: true,
		DataDir: dir, Transport: tr, Hint: tr.Hint(), Backup: f.settings.Backup, Retention: f.settings.Retention, Now: f.now, Logger: log, Async: true,
		DiskSpace: store.DiskSpace}
	// Reminders caught up at a start wait for the messages waiting at the chat.
	if st, ok := tr.(bot.Settler); ok {
		o.Settled = st.Settled()
	} else {
		o.SettleWait = f.settings.CatchUpWait
	}
	app, err := OpenApp(ctx, o)
	if err != nil {
		return damagedAdvice(err, dir)
	}
	defer app.Close()
	wiring.attach(app)
	// Everything started below is joined before app.Close: nothing writes to a closed store.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	if f.settings.Web.Listen != "" {
		// Up before the login, so that the QR code can be scanned from the status page.
		srv, err := app.Dashboard(cfg, f.settings.Web.URL, tr.Status)
		if err != nil {
			return err
		}
		if err := serveDashboard(ctx, &wg, f.settings.Web.Listen, srv, log); err != nil {
			return err
		}
	}
	errs := make(chan error, 1)
	wg.Go(func() { errs <- app.Run(ctx) })
	if sf := f.schedules; sf.path != "" {
		wg.Go(func() {
			if err := watchSchedules(ctx, sf, 500*time.Millisecond, func(path string) { app.ScheduleChanged(ctx, path) }); err != nil {
				log.Warn().Err(err).Msg("schedule edits take effect on 重载 or a restart only")
			}
		})
	}
	platform := tr.Status().Platform
	log.Info().Str("transport", f.settings.Transport).Str("data", dir).Msg("connecting")
	err = tr.Run(ctx, app.Bot)
	gaveUp := ctx.Err() == nil
	stop()
	wg.Wait()
	if gaveUp {
		// The transport cannot go on (a refused login): the process ends with its word.
		return errors.Join(fmt.Errorf("%s连接结束：%w", platform, err), <-errs)
	}
	return errors.Join(err, <-errs)
}

// serveDashboard listens at once (so a taken port fails the start) and serves
// until ctx ends; wg is done once the server and its handlers have stopped.
func serveDashboard(ctx context.Context, wg *sync.WaitGroup, addr string, h http.Handler, log zerolog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("看板的地址 %s 用不了（%w）：改设置文件 [web] listen，或写 \"\" 关闭看板", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	wg.Go(func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut) // waits for the handlers in flight, at most 5 s
	})
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("dashboard")
		}
	})
	log.Info().Str("addr", ln.Addr().String()).Msg("dashboard: admins get a sign-in link with 看板")
	return nil
}
