"""Speech: voice activity, recognition, speakers (the audio domain beside vision/)."""
