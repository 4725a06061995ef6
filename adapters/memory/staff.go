package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/accountkit/cancellation/ports"
)

// StaffDirectory is an in-memory ports.StaffDirectory: the back office's
// staff members and their roles.
type StaffDirectory struct {
	mu      sync.RWMutex
	members map[string]ports.StaffMember
}

// NewStaffDirectory returns a directory holding members.
func NewStaffDirectory(members ...ports.StaffMember) *StaffDirectory {
	d := &StaffDirectory{members: make(map[string]ports.StaffMember)}
	for _, m := range members {
		d.Put(m)
	}
	return d
}

// Put adds m, or replaces the member of the same id.
func (d *StaffDirectory) Put(m ports.StaffMember) {
	m.Roles = slices.Clone(m.Roles)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.members[m.ID] = m
}

// Remove forgets the member of id.
func (d *StaffDirectory) Remove(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.members, id)
}

// StaffMember implements ports.StaffDirectory.
func (d *StaffDirectory) StaffMember(ctx context.Context, id string) (ports.StaffMember, error) {
	if err := ctx.Err(); err != nil {
		return ports.StaffMember{}, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	m, ok := d.members[id]
	if !ok {
		return ports.StaffMember{}, fmt.Errorf("memory: staff member %q: %w", id, ports.ErrNotFound)
	}
	m.Roles = slices.Clone(m.Roles)
	return m, nil
}

var _ ports.StaffDirectory = (*StaffDirectory)(nil)

// The demo staff that [StaffDirectory.SeedDemo] adds, one of each role.
// They have no customer accounts of their own.
const (
	// DemoReviewer reviews: claims requests before deciding them.
	DemoReviewer = "reviewer-1"
	// DemoSenior may also decide requests without claiming them, and
	// requests another reviewer claimed.
	DemoSenior = "senior-1"
	// DemoAdmin may also reassign claims.
	DemoAdmin = "admin-1"
)

// SeedDemo adds the demo staff members DemoReviewer, DemoSenior and
// DemoAdmin, replacing any member of the same id. It returns d.
func (d *StaffDirectory) SeedDemo() *StaffDirectory {
	d.Put(ports.StaffMember{ID: DemoReviewer, Name: "Rita Reviewer", Roles: []ports.Role{ports.RoleReviewer}})
	d.Put(ports.StaffMember{ID: DemoSenior, Name: "Sam Senior", Roles: []ports.Role{ports.RoleSenior}})
	d.Put(ports.StaffMember{ID: DemoAdmin, Name: "Ada Admin", Roles: []ports.Role{ports.RoleAdmin}})
	return d
}
