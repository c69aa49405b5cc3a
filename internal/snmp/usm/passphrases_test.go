package usm_test

import (
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

func TestSetPassphrases(t *testing.T) {
	u := usm.User{Name: "pete", AuthProto: gosnmp.NoAuth, PrivProto: gosnmp.NoPriv}
	if err := u.SetPassphrases("SHA256", "authpass1", "AES", ""); err != nil {
		t.Fatal(err)
	}
	if u.AuthProto != gosnmp.SHA256 || u.AuthPass != "authpass1" || u.PrivProto != gosnmp.NoPriv || u.PrivPass != "" {
		t.Errorf("authNoPriv: %+v", u)
	}
	if err := u.SetPassphrases("SHA", "authpass1", "AES256", "privpass1"); err != nil || u.PrivProto != gosnmp.AES256 || u.PrivPass != "privpass1" {
		t.Errorf("authPriv: %+v %v", u, err)
	}
	n := usm.User{Name: "n"}
	if err := n.SetPassphrases("SHA", "", "AES", "privpass1"); err == nil || strings.Contains(err.Error(), "privpass1") {
		t.Errorf("privacy without authentication: %v", err)
	}
	if err := n.SetPassphrases("ROT13", "authpass1", "AES", ""); err == nil || strings.Contains(err.Error(), "authpass1") {
		t.Errorf("unknown protocol: %v", err)
	}
}
