// Package all imports every kind of source and sink, so that they register themselves
// with internal/component. A new kind is a folder under internal/source or
// internal/sink and one import line here.
package all

import (
	// Sources.
	_ "github.com/hsmwatch/hsmwatch/internal/source/fifo"
	_ "github.com/hsmwatch/hsmwatch/internal/source/follow"
	_ "github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
	_ "github.com/hsmwatch/hsmwatch/internal/source/poll"
	_ "github.com/hsmwatch/hsmwatch/internal/source/syslog"
	_ "github.com/hsmwatch/hsmwatch/internal/source/traps"

	// Sinks.
	_ "github.com/hsmwatch/hsmwatch/internal/sink/alertmanager"
	_ "github.com/hsmwatch/hsmwatch/internal/sink/forward"
	_ "github.com/hsmwatch/hsmwatch/internal/sink/passive"
	_ "github.com/hsmwatch/hsmwatch/internal/sink/snmptrap"
	_ "github.com/hsmwatch/hsmwatch/internal/sink/stdout"
	_ "github.com/hsmwatch/hsmwatch/internal/sink/webhook"
)
