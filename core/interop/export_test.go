package interop

// ReadStateDict reads src as Import does, up to the state dict, and
// returns its tensor names: the file readers without the model.
func ReadStateDict(src string) ([]string, error) {
	sd, err := readStateDict(src)
	if err != nil {
		return nil, err
	}
	return sd.names(), nil
}
