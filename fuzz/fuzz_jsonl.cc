// JSON Lines through io::RecordReader (header as the union of keys, nested objects flattened).
#include "record_reader_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return FuzzRecordReader(data, size, ".jsonl"); }
