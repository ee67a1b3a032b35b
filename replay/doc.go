// Package replay reads recorded sensor and audio traces and turns them into
// model input tensors with the front-end a model was trained with. The Go
// front-ends here are the single source of truth: the training scripts read
// features exported by WriteFeatures (`kagen features`), and inference
// (eval, the workbench) computes them with the same code through Open.
//
// # Traces
//
// IMU trace: a CSV file whose first line names the columns; one column per
// channel, a "timestamp" column in Unix milliseconds (non-decreasing; rows
// sharing a timestamp are averaged; a gap longer than Options.MaxGap, one
// window by default, splits the trace: no window spans it) and an optional
// "label" column. Other columns are ignored. Fields are separated by commas
// (no commas inside fields; surrounding double quotes are stripped); CRLF
// and CR line ends, a UTF-8 byte order mark and blank lines are accepted; a
// UTF-16 or binary header is refused as not a text CSV. With
// Options.SkipBadLines a malformed data line is skipped and counted (Stats)
// instead of ending the trace. The
// shared HAR files (x_acc,y_acc,z_acc,x_gyro,y_gyro,z_gyro,timestamp,label)
// are valid traces as they are. A trace is read row by row and resampled by
// timestamp to the spec's rate: linear interpolation between the two
// samples around each output time (first output at the first timestamp, none
// after the last; no anti-alias filter), label of the nearer input sample.
// A directory of IMU traces is searched recursively; each file is its own
// trace, and windows never span two files.
//
// Audio trace: a RIFF/WAVE file (PCM 8-bit unsigned, 16, 24, 32-bit; IEEE
// float 32 or 64-bit; WAVE_FORMAT_EXTENSIBLE of these; 1000 Hz to 1.536 MHz;
// any number of channels up to 32, averaged to mono), streamed, and
// resampled to the spec's rate with a windowed-sinc filter (Kaiser window,
// 16 zero crossings, cutoff at the lower Nyquist frequency, x0.95 when
// downsampling). Labels come from a sidecar NAME.labels.csv beside
// NAME.wav: a header "start_s,end_s,label" and sorted, non-overlapping
// intervals in seconds. Or a directory of clips named LABEL_*.wav (the
// Free Spoken Digit Dataset's 7_jackson_32.wav is label "7"), played back
// to back with Options.Gap seconds of silence, or of white noise at
// Options.SNR dB below the next clip's RMS level (Options.Noise; the noise
// runs through the clips too), before each clip and after the last. Clips
// are loaded one at a time (at most Options.MaxClipSeconds long).
//
// # Windows and labels
//
// Windows are spec.Window samples long and start every hop samples
// (spec.Hop, or Options.Hop); a trace's trailing partial window is dropped,
// so a trace shorter than one window yields none. An IMU window's label is
// the majority label of its samples (ties: the label that occurs first). An
// audio window's label is that of the interval covering the window's centre,
// else SilenceLabel ("_silence_"); windows of a WAV without a sidecar have
// label "". With Options.OnePerClip each clip of a clip directory yields
// exactly one window (for evaluation): a clip shorter than the window is
// centred with zero padding, a longer one cropped to the window centred on
// its energy centroid (sum of i*x[i]^2 over sum of x[i]^2).
//
// # IMU features
//
// imu-raw: the channels are CSV column names, copied as they are.
//
// imu-orient: orientation-invariant channels, computed per window from the
// acceleration a (features.acc_columns) and angular rate w
// (features.gyro_columns). Gravity g is the mean of a over the window and
// ĝ = g/|g| (ĝ = 0 if |g| < 1e-9). The channels, in any subset and order:
//
//	acc_along_g    a·ĝ − |g|          (vertical dynamic acceleration)
//	acc_across_g   |a − (a·ĝ)ĝ|       (horizontal acceleration magnitude)
//	acc_norm       |a|
//	gyro_along_g   w·ĝ                (rotation about the vertical)
//	gyro_across_g  |w − (w·ĝ)ĝ|
//	gyro_norm      |w|
//
// Rotating the sensor axes by any fixed rotation leaves all six unchanged.
//
// # Audio features
//
// Per window: frames of frame_length samples every frame_hop samples, no
// padding (frames = 1 + (window − frame_length) / frame_hop); each frame
// times a periodic window (hann: 0.5 − 0.5 cos(2πn/N); hamming: 0.54 −
// 0.46 cos(2πn/N); rectangular), zero-padded to n_fft, real FFT (radix 2),
// power spectrum |X[k]|², k = 0..n_fft/2; a mel filterbank of n_mels HTK
// triangles (mel = 2595 log10(1 + f/700); n_mels+2 edges equally spaced in
// mel from fmin to fmax; weights linear in Hz, peak 1, no area
// normalisation: the same as torchaudio's melscale_fbanks with
// mel_scale="htk", norm=None); then ln(max(energy, log_floor)). For mfcc, the
// orthonormal DCT-II of the n_mels log energies, keeping the first n_mfcc
// coefficients (scipy's dct(type=2, norm="ortho")). Samples are in [-1, 1):
// no pre-emphasis, dither or DC removal.
//
// # Normalisation and tensor layout
//
// With "norm", feature x of channel (IMU) or feature row (mel band or
// cepstral coefficient) i becomes (x − mean[i]) / std[i]. The input tensor
// is [1, C, T] for IMU (Conv1d: channel-major, dst[c*T+t]) and
// [1, 1, frames, features] for audio (Conv2d over time x frequency,
// dst[t*features+j]).
//
// # Spec JSON
//
// A model stores its front-end as JSON in the ONNX metadata_props under the
// key "kagen.frontend" (SpecKey). ParseSpec reads it and rejects unknown
// fields; Marshal writes it with input_shape filled in. Fields:
//
//	version      1
//	task         "har" or "kws"
//	sample_rate  Hz the trace is resampled to (har 1..10000, kws 1000..384000)
//	channels     har only: the model's input channels (see IMU features)
//	window       samples per window at sample_rate
//	hop          default samples between window starts
//	features     object:
//	  type          "imu-raw", "imu-orient" (har); "logmel", "mfcc" (kws)
//	  acc_columns   imu-orient: the x, y, z acceleration CSV columns
//	  gyro_columns  imu-orient: the x, y, z angular-rate CSV columns
//	                (needed when a gyro_* channel is used)
//	  frame_length  kws: samples per frame
//	  frame_hop     kws: samples between frame starts
//	  n_fft         kws: FFT size, a power of two >= frame_length
//	  n_mels        kws: mel bands (each must cover an FFT bin)
//	  fmin, fmax    kws: filterbank range in Hz (fmin absent = 0;
//	                fmax <= sample_rate/2)
//	  n_mfcc        mfcc only: coefficients kept (<= n_mels)
//	  window_fn     kws: "hann" (default), "hamming", "rectangular"
//	  mel_scale     kws: "htk" (default; the only scale)
//	  log_floor     kws: floor before the log, 0 < log_floor <= 1
//	norm         optional {"mean": [...], "std": [...]}, one entry per
//	             channel (har) or per feature row (kws: n_mels or n_mfcc);
//	             std > 0
//	classes      output class names by index, the data's own label strings
//	input_shape  [1, C, window] (har) or [1, 1, frames, n_mels|n_mfcc] (kws);
//	             checked when present
//
// Example (DefaultKWSSpec with a normalisation, abridged):
//
//	{
//	  "version": 1,
//	  "task": "kws",
//	  "sample_rate": 8000,
//	  "window": 8000,
//	  "hop": 4000,
//	  "features": {"type": "logmel", "frame_length": 200, "frame_hop": 80,
//	    "n_fft": 256, "n_mels": 40, "fmin": 20, "fmax": 4000,
//	    "window_fn": "hann", "mel_scale": "htk", "log_floor": 0.000001},
//	  "norm": {"mean": [-9.1, -8.7, ...], "std": [2.3, 2.4, ...]},
//	  "classes": ["_silence_", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
//	  "input_shape": [1, 1, 98, 40]
//	}
//
// and DefaultHARSpec:
//
//	{
//	  "version": 1,
//	  "task": "har",
//	  "sample_rate": 50,
//	  "channels": ["acc_along_g", "acc_across_g", "acc_norm",
//	    "gyro_along_g", "gyro_across_g", "gyro_norm"],
//	  "window": 128,
//	  "hop": 64,
//	  "features": {"type": "imu-orient",
//	    "acc_columns": ["x_acc", "y_acc", "z_acc"],
//	    "gyro_columns": ["x_gyro", "y_gyro", "z_gyro"]},
//	  "classes": ["SEATED", "STANDING_UP", "WALKING", "TURNING", "SITTING_DOWN"],
//	  "input_shape": [1, 6, 128]
//	}
//
// # Feature export
//
// WriteFeatures writes X.npy (float32 [N, ...input_shape[1:]]), y.npy (int64
// class indices), g.npy (int64 group indices: subject sNN for HAR files,
// speaker for clips, see GroupOf) and meta.json (spec, options, counts and
// each window's file, group, start, end and label). Windows whose label is
// not a class are skipped and counted (or an error with
// Options.StrictLabels).
//
// # Errors
//
// Bad input never panics: errors are *InputError values naming the file and
// the line (text) or byte offset (WAV) and what was expected. Sizes are
// checked against limits (MaxCSVLine, MaxWAVFmtChunk, MaxWindow, ...)
// before anything is allocated for them.
package replay
