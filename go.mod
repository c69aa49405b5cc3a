module github.com/hsmwatch/hsmwatch

go 1.26.8

require (
	github.com/gosnmp/gosnmp v1.47.0
	github.com/leodido/go-syslog/v4 v4.5.0
	github.com/miekg/pkcs11 v1.1.2
	github.com/sleepinggenius2/gosmi v0.4.4
	github.com/spf13/cobra v1.10.2
	github.com/spf13/pflag v1.0.9
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/alecthomas/participle v0.4.1 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
)
