// Shared body of the CSV and JSON Lines targets: the reader opens files, so each input is
// written to a per-process temporary file with the format's extension and read to its end
// (bad records are skipped, as skip-bad-rows does).
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "io/record_reader.h"

inline int FuzzRecordReader(const uint8_t* data, size_t size, const char* extension) {
  static const std::string path =
      std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/cf-fuzz-" + std::to_string(getpid()) + extension;
  FILE* f = fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  if (size > 0) fwrite(data, 1, size, f);
  fclose(f);
  cf::io::SourceOptions source;
  source.path = path;
  auto reader = cf::io::RecordReader::Open(source);
  if (reader.has_value()) {
    cf::io::Record record;
    for (int i = 0; i < 100000; ++i) {
      auto more = (*reader)->Next(&record);
      if (more.has_value()) {
        if (!*more) break;
        for (std::string_view field : record.fields) (void)field.size();
      } else if (more.error().code() != cf::StatusCode::kInvalidArgument) {
        break;
      }
    }
    (void)(*reader)->Checksum();
  }
  unlink(path.c_str());
  return 0;
}
