// CSV through io::RecordReader (delimiter detection, quoting, encodings, gzip by magic bytes).
#include "record_reader_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return FuzzRecordReader(data, size, ".csv"); }
