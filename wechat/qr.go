package wechat

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mdp/qrterminal/v3"
	"rsc.io/qr"
)

// LoginURL is what the phone scans to log the bot in.
func LoginURL(uuid string) string { return "https://login.weixin.qq.com/l/" + uuid }

// showQR draws the login QR code on the terminal and writes it as a PNG in the
// data directory, for servers without a terminal (docker logs, a NAS).
func (a *Adapter) showQR(uuid string) {
	content := LoginURL(uuid)
	log := a.o.Logger.With().Str("url", content).Logger()
	if a.o.QR != nil {
		fmt.Fprintln(a.o.QR, "请用机器人的微信号扫描下面的二维码登录：")
		qrterminal.GenerateHalfBlock(content, qrterminal.L, a.o.QR)
	}
	path := filepath.Join(a.o.DataDir, QRFile)
	code, err := qr.Encode(content, qr.L)
	if err == nil {
		code.Scale = 8
		png := code.PNG()
		a.mu.Lock()
		a.qr = png // for the dashboard's status page
		a.mu.Unlock()
		err = os.WriteFile(path, png, 0o600)
	}
	if err != nil {
		log.Warn().Err(err).Msg("write the QR code image")
		return
	}
	log.Info().Str("png", path).Msg("scan the QR code with the bot's WeChat account to log in")
}
