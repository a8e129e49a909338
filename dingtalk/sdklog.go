package dingtalk

import (
	"fmt"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/logger"
	"github.com/rs/zerolog"
)

// sdkLog is the SDK's logger interface over zerolog, every line redacted.
type sdkLog struct{ log zerolog.Logger }

func setSDKLogger(log zerolog.Logger) { logger.SetLogger(sdkLog{log}) }

// Debugf drops the line: the SDK's debug lines dump whole requests, the
// client secret included.
func (sdkLog) Debugf(string, ...any) {}

func (l sdkLog) Infof(format string, args ...any) {
	l.log.Debug().Msg(redact(fmt.Sprintf(format, args...)))
}

func (l sdkLog) Warningf(format string, args ...any) {
	l.log.Warn().Msg(redact(fmt.Sprintf(format, args...)))
}

func (l sdkLog) Errorf(format string, args ...any) {
	l.log.Warn().Msg(redact(fmt.Sprintf(format, args...)))
}

// Fatalf is logged as an error: a library must not end the process.
func (l sdkLog) Fatalf(format string, args ...any) {
	l.log.Error().Msg(redact(fmt.Sprintf(format, args...)))
}
