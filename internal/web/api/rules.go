package api

import (
	"context"
	"strconv"

	"github.com/hsmwatch/hsmwatch/internal/classify"
)

// Rules finds a catalog rule by id: a *classify.Catalog, or, in a daemon that reloads
// its catalog, something that asks the current one.
type Rules interface {
	Rule(id string) (*classify.Rule, bool)
}

// ruleBody is what GET /api/rules/{id} tells about a rule: what an operator reading an
// event needs (what it means, what to do), not how it matches.
type ruleBody struct {
	ID           string `json:"id"`
	Title        string `json:"title"`
	Level        string `json:"level,omitempty"`
	Component    string `json:"component,omitempty"`
	Class        string `json:"class,omitempty"`
	Notification string `json:"notification,omitempty"`
	Meaning      string `json:"meaning,omitempty"`
	Action       string `json:"action,omitempty"`
}

// rule returns the endpoint of GET /api/rules/{id}: {"id":...,"title":...,"level":...,
// "meaning":...,"action":...,"component":...,"class":...}; an unknown id is a 404.
func (h *handler) rule(id string) endpoint {
	return func(ctx context.Context, p *params) ([]byte, error) {
		if h.opts.Rules == nil {
			return nil, &notFoundError{"no rule catalog is loaded"}
		}
		r, ok := h.opts.Rules.Rule(id)
		if !ok {
			return nil, &notFoundError{"no rule with id " + strconv.Quote(id)}
		}
		return marshal(ruleBody{ID: r.ID, Title: r.Title, Level: r.Level, Component: r.Component,
			Class: r.Class, Notification: r.Notification, Meaning: r.Meaning, Action: r.Action})
	}
}

// notFoundError answers 404 with its text.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }
