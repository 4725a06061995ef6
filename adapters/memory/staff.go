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
