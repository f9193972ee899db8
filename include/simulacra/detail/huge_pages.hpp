// simulacra/detail/huge_pages.hpp — asking for transparent huge pages under a
// large, fresh buffer (internal).
//
// A trace of a long text fills arrays of tens of megabytes that no one has
// touched: with 4 KB pages each first touch is a page fault (16 000 for
// 64 MB), and in a virtual machine a fault costs microseconds. Where Linux
// offers transparent huge pages on request (`madvise` mode, the common
// default), a 2 MB page takes one fault instead of 512. Only the 2 MB-aligned
// interior of the buffer is advised; the kernel falls back to small pages when
// it has no huge page free, and elsewhere this does nothing. (PyTorch's CPU
// allocator does the same for large tensors, behind THP_MEM_ALLOC_ENABLE.)
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace simulacra::detail {

inline void advise_huge_pages(void* data, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t kHuge = std::uintptr_t(1) << 21;
  if (bytes < 4 * kHuge) return;  // not worth a system call
  const auto start = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t begin = (start + kHuge - 1) & ~(kHuge - 1), end = (start + bytes) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);  // a hint: errors ignored
#else
  (void)data;
  (void)bytes;
#endif
}

}  // namespace simulacra::detail
