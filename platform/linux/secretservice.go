package linux

import (
	"context"
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"
)

// item is what jailrun reads of a Secret Service item.
type item struct {
	path     dbus.ObjectPath
	attrs    map[string]string
	modified uint64 // seconds since the epoch
	secret   []byte // nil until loaded
}

// newestFirst orders items by modification time, newest first; items
// modified in the same second are ordered by path, the later created
// (longer, then greater) first, as providers number items in sequence.
func newestFirst(a, b item) int {
	switch {
	case a.modified != b.modified:
		if a.modified > b.modified {
			return -1
		}
		return 1
	case len(a.path) != len(b.path):
		return len(b.path) - len(a.path)
	case a.path > b.path:
		return -1
	case a.path < b.path:
		return 1
	}
	return 0
}

// search returns the items whose attributes include attrs, unlocking the
// locked ones (which may show a prompt). Every operation starts here, so
// once the transfer is opened it also waits for the service's answer: a
// provider that refuses the transfer fails every operation alike. The
// search goes out first, and the service handles it right after its half
// of the key exchange.
func (k *Keyring) search(op string, attrs map[string]string) ([]dbus.ObjectPath, error) {
	ctx, cancel := context.WithTimeout(context.Background(), k.callTimeout)
	defer cancel()
	call := k.service.GoWithContext(ctx, serviceIface+".SearchItems", 0, nil, attrs)
	if k.opened.Load() {
		if _, err := k.ready(); err != nil {
			return nil, err
		}
	}
	var unlocked, locked []dbus.ObjectPath
	if err := (<-call.Done).Store(&unlocked, &locked); err != nil {
		return nil, classify(op, k.callTimeout, err)
	}
	if len(locked) > 0 {
		if err := k.unlock(op, locked); err != nil {
			return nil, err
		}
	}
	return append(unlocked, locked...), nil
}

// unlock unlocks objects (items or collections), prompting when the
// service asks to.
func (k *Keyring) unlock(op string, objects []dbus.ObjectPath) error {
	var done []dbus.ObjectPath
	var prompt dbus.ObjectPath
	if err := k.call(k.service, serviceIface+".Unlock", objects).Store(&done, &prompt); err != nil {
		return classify(op, k.callTimeout, err)
	}
	_, err := k.prompt(op, prompt)
	return err
}

// prompt shows the service's prompt at path (if any) and waits, at most
// the prompt timeout, for the user to complete it. It returns the prompt's
// result.
func (k *Keyring) prompt(op string, path dbus.ObjectPath) (dbus.Variant, error) {
	if path == rootPath {
		return dbus.Variant{}, nil
	}
	match := []dbus.MatchOption{
		dbus.WithMatchObjectPath(path),
		dbus.WithMatchInterface(promptIface),
		dbus.WithMatchMember("Completed"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), k.callTimeout)
	err := k.conn.AddMatchSignalContext(ctx, match...)
	cancel()
	if err != nil {
		return dbus.Variant{}, classify(op, k.callTimeout, err)
	}
	signals := make(chan *dbus.Signal, 8)
	k.conn.Signal(signals)
	defer func() {
		k.conn.RemoveSignal(signals)
		ctx, cancel := context.WithTimeout(context.Background(), k.callTimeout)
		defer cancel()
		_ = k.conn.RemoveMatchSignalContext(ctx, match...)
	}()

	obj := k.conn.Object(serviceName, path)
	if err := k.call(obj, promptIface+".Prompt", "").Err; err != nil {
		return dbus.Variant{}, fmt.Errorf("%s: %w and no unlock prompt can be shown (%s); %s", op, ErrLocked, firstLine(err.Error()), adviceLocked)
	}
	timer := time.NewTimer(k.promptTimeout)
	defer timer.Stop()
	for {
		select {
		case sig, ok := <-signals:
			if !ok {
				return dbus.Variant{}, classify(op, k.callTimeout, dbus.ErrClosed)
			}
			if sig.Path != path || sig.Name != promptIface+".Completed" || len(sig.Body) != 2 {
				continue
			}
			if dismissed, _ := sig.Body[0].(bool); dismissed {
				return dbus.Variant{}, fmt.Errorf("%s: %w or could not be shown (no prompter, e.g. over SSH); %s", op, ErrDismissed, adviceLocked)
			}
			result, _ := sig.Body[1].(dbus.Variant)
			return result, nil
		case <-timer.C:
			_ = k.call(obj, promptIface+".Dismiss").Err
			return dbus.Variant{}, fmt.Errorf("%s: %w: nobody answered the keyring unlock prompt within %s; %s", op, ErrTimeout, k.promptTimeout, adviceLocked)
		}
	}
}

// readItems reads the attributes of every item at paths and, when
// withSecrets, their secrets: the requests are pipelined, and the secrets
// come in a single GetSecrets call. Items that vanished meanwhile are left
// out. Their modification times are not read (see loadModified): reading
// every property at once (GetAll) costs gnome-keyring time that grows with
// the number of items in the keyring, on every call.
func (k *Keyring) readItems(op string, paths []dbus.ObjectPath, withSecrets bool) ([]item, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), k.callTimeout)
	defer cancel()
	var secretsCall *dbus.Call
	if withSecrets {
		var err error
		if secretsCall, err = k.getSecrets(ctx, paths); err != nil {
			return nil, err
		}
	}
	items := make([]item, 0, len(paths))
	err := pipeline(len(paths), func(i int) *dbus.Call {
		return k.conn.Object(serviceName, paths[i]).GoWithContext(ctx, propsIface+".Get", 0, nil, itemIface, "Attributes")
	}, func(i int, c *dbus.Call) error {
		var attrs dbus.Variant
		if err := c.Store(&attrs); err != nil {
			if isNoSuchObject(err) {
				return nil
			}
			return classify(op, k.callTimeout, err)
		}
		it := item{path: paths[i]}
		it.attrs, _ = attrs.Value().(map[string]string)
		items = append(items, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if secretsCall == nil {
		return items, nil
	}
	return k.fillSecrets(op, secretsCall, items)
}

// loadModified reads the modification times of items, which order them
// (newestFirst); items that vanished meanwhile are left out.
func (k *Keyring) loadModified(op string, items []item) ([]item, error) {
	ctx, cancel := context.WithTimeout(context.Background(), k.callTimeout)
	defer cancel()
	loaded := items[:0:0]
	err := pipeline(len(items), func(i int) *dbus.Call {
		return k.conn.Object(serviceName, items[i].path).GoWithContext(ctx, propsIface+".Get", 0, nil, itemIface, "Modified")
	}, func(i int, c *dbus.Call) error {
		var modified dbus.Variant
		if err := c.Store(&modified); err != nil {
			if isNoSuchObject(err) {
				return nil
			}
			return classify(op, k.callTimeout, err)
		}
		it := items[i]
		it.modified, _ = modified.Value().(uint64)
		loaded = append(loaded, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return loaded, nil
}

// maxPending bounds the calls sent ahead of their answers: a bus refuses
// more pending replies per connection than its limit (128 by
// dbus-daemon's default), and each message costs the bus and the service
// alike whether or not it is pipelined.
const maxPending = 64

// pipeline sends the calls send(0), …, send(n-1), keeping at most
// maxPending unanswered, and hands each to receive, in order, once
// answered. It stops at the first error receive returns.
func pipeline(n int, send func(i int) *dbus.Call, receive func(i int, c *dbus.Call) error) error {
	calls := make([]*dbus.Call, n)
	sent := 0
	for i := range n {
		for ; sent < n && sent < i+maxPending; sent++ {
			calls[sent] = send(sent)
		}
		if err := receive(i, <-calls[i].Done); err != nil {
			return err
		}
	}
	return nil
}

// loadSecrets fetches the secrets of items in one call; items that
// vanished meanwhile are left out.
func (k *Keyring) loadSecrets(op string, items []item) ([]item, error) {
	if len(items) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), k.callTimeout)
	defer cancel()
	paths := make([]dbus.ObjectPath, len(items))
	for i, it := range items {
		paths[i] = it.path
	}
	call, err := k.getSecrets(ctx, paths)
	if err != nil {
		return nil, err
	}
	return k.fillSecrets(op, call, items)
}

// getSecrets sends one GetSecrets call for paths without waiting.
func (k *Keyring) getSecrets(ctx context.Context, paths []dbus.ObjectPath) (*dbus.Call, error) {
	transferPath, err := k.ready()
	if err != nil {
		return nil, err
	}
	return k.service.GoWithContext(ctx, serviceIface+".GetSecrets", 0, nil, paths, transferPath), nil
}

// fillSecrets waits for a GetSecrets call and decrypts its answer into
// items, leaving out those the service did not return.
func (k *Keyring) fillSecrets(op string, call *dbus.Call, items []item) ([]item, error) {
	<-call.Done
	var secrets map[dbus.ObjectPath]secret
	if err := call.Store(&secrets); err != nil {
		return nil, classify(op, k.callTimeout, err)
	}
	s, err := k.agreed()
	if err != nil {
		return nil, err
	}
	loaded := items[:0:0]
	for _, it := range items {
		sec, ok := secrets[it.path]
		if !ok {
			continue
		}
		plain, err := s.decrypt(sec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		it.secret = plain
		loaded = append(loaded, it)
	}
	return loaded, nil
}

// defaultCollection returns the collection new items go to: the "default"
// alias, else gnome-keyring's login collection.
func (k *Keyring) defaultCollection(op string) (dbus.ObjectPath, error) {
	var path dbus.ObjectPath
	if err := k.call(k.service, serviceIface+".ReadAlias", "default").Store(&path); err != nil {
		return "", classify(op, k.callTimeout, err)
	}
	if path == rootPath {
		return loginCollection, nil
	}
	return path, nil
}

// CanStore reports whether new tokens can be stored: the default
// collection exists. It returns an error of kind ErrNoCollection when not.
func (k *Keyring) CanStore() error {
	const op = "store tokens"
	collection, err := k.defaultCollection(op)
	if err != nil {
		return err
	}
	err = k.call(k.conn.Object(serviceName, collection), propsIface+".Get", collectionIface, "Label").Err
	if isNoSuchObject(err) {
		return noCollection(op, collection)
	}
	return classify(op, k.callTimeout, err)
}

// noCollection is the error for a default collection that does not exist.
func noCollection(op string, collection dbus.ObjectPath) error {
	return fmt.Errorf("%s: %w (%s); %s", op, ErrNoCollection, collection, adviceNoCollection)
}

// createItem creates an item in the default collection (with replace, the
// provider updates an item whose attributes include attrs instead) and
// returns its path. A locked collection is unlocked first.
func (k *Keyring) createItem(op, label string, attrs map[string]string, plaintext []byte, replace bool) (dbus.ObjectPath, error) {
	collection, err := k.defaultCollection(op)
	if err != nil {
		return "", err
	}
	sec, err := k.encrypt(op, plaintext)
	if err != nil {
		return "", err
	}
	props := map[string]dbus.Variant{
		itemIface + ".Label":      dbus.MakeVariant(label),
		itemIface + ".Attributes": dbus.MakeVariant(attrs),
	}
	obj := k.conn.Object(serviceName, collection)
	var path, prompt dbus.ObjectPath
	err = k.call(obj, collectionIface+".CreateItem", props, sec, replace).Store(&path, &prompt)
	if dbusErrorName(err) == secretIsLocked {
		if err := k.unlock(op, []dbus.ObjectPath{collection}); err != nil {
			return "", err
		}
		err = k.call(obj, collectionIface+".CreateItem", props, sec, replace).Store(&path, &prompt)
	}
	if err != nil {
		if isNoSuchObject(err) {
			return "", noCollection(op, collection)
		}
		return "", classify(op, k.callTimeout, err)
	}
	if prompt == rootPath {
		return path, nil
	}
	result, err := k.prompt(op, prompt)
	if err != nil {
		return "", err
	}
	path, _ = result.Value().(dbus.ObjectPath)
	return path, nil
}

// encrypt wraps plaintext for the service in the transfer Open started.
func (k *Keyring) encrypt(op string, plaintext []byte) (secret, error) {
	s, err := k.agreed()
	if err != nil {
		return secret{}, err
	}
	sec, err := s.encrypt(plaintext, "text/plain")
	if err != nil {
		return secret{}, fmt.Errorf("%s: %w", op, err)
	}
	return sec, nil
}

// setSecret replaces the secret of the item at path.
func (k *Keyring) setSecret(op string, path dbus.ObjectPath, plaintext []byte) error {
	sec, err := k.encrypt(op, plaintext)
	if err != nil {
		return err
	}
	return classify(op, k.callTimeout, k.call(k.conn.Object(serviceName, path), itemIface+".SetSecret", sec).Err)
}

// updateItem replaces the secret, label and attributes of the item at
// path, sending all three requests before awaiting any answer.
func (k *Keyring) updateItem(op string, path dbus.ObjectPath, label string, attrs map[string]string, plaintext []byte) error {
	sec, err := k.encrypt(op, plaintext)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), k.callTimeout)
	defer cancel()
	obj := k.conn.Object(serviceName, path)
	calls := []*dbus.Call{
		obj.GoWithContext(ctx, itemIface+".SetSecret", 0, nil, sec),
		obj.GoWithContext(ctx, propsIface+".Set", 0, nil, itemIface, "Label", dbus.MakeVariant(label)),
		obj.GoWithContext(ctx, propsIface+".Set", 0, nil, itemIface, "Attributes", dbus.MakeVariant(attrs)),
	}
	for _, c := range calls {
		if err := (<-c.Done).Err; err != nil {
			return classify(op, k.callTimeout, err)
		}
	}
	return nil
}

// setAttributes replaces the attributes of the item at path.
func (k *Keyring) setAttributes(op string, path dbus.ObjectPath, attrs map[string]string) error {
	obj := k.conn.Object(serviceName, path)
	return classify(op, k.callTimeout, k.call(obj, propsIface+".Set", itemIface, "Attributes", dbus.MakeVariant(attrs)).Err)
}

// deleteItems deletes the items at paths (the requests pipelined),
// answering the prompts the service asks for. Items already gone count as
// deleted.
func (k *Keyring) deleteItems(op string, paths []dbus.ObjectPath) error {
	ctx, cancel := context.WithTimeout(context.Background(), k.callTimeout)
	defer cancel()
	var prompts []dbus.ObjectPath
	err := pipeline(len(paths), func(i int) *dbus.Call {
		return k.conn.Object(serviceName, paths[i]).GoWithContext(ctx, itemIface+".Delete", 0, nil)
	}, func(_ int, c *dbus.Call) error {
		var prompt dbus.ObjectPath
		if err := c.Store(&prompt); err != nil {
			if isNoSuchObject(err) {
				return nil
			}
			return classify(op, k.callTimeout, err)
		}
		if prompt != rootPath {
			prompts = append(prompts, prompt)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range prompts {
		if _, err := k.prompt(op, p); err != nil {
			return err
		}
	}
	return nil
}
