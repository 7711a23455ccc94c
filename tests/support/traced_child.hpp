// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// traced_child.hpp: runs a piece of work in a child process traced by the test (ptrace) and
// kills it with SIGKILL at its k-th system-call stop. The kill tests choose the moment by
// system call, not by time: every write, fsync, link, rename and unlink is a stop, and the
// same k kills at the same point on every machine, however loaded.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>

namespace brine_test {

/// Runs `work()` in a traced child and kills the child at system-call stop `kill_at` (0:
/// never, and the work must then succeed). Returns the number of stops the child made, so
/// that a run with kill_at 0 tells how many moments there are to kill at.
template <class Work>
std::uint64_t run_in_traced_child(Work&& work, std::uint64_t kill_at) {
  pid_t child = ::fork();
  if (child == 0) {
    if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) ::_exit(42);
    ::raise(SIGSTOP);
    try {
      work();
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);  // no atexit handlers: the parent's test state stays the parent's
  }
  EXPECT_GT(child, 0);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (WIFEXITED(status)) {
    ADD_FAILURE() << "the child could not be traced (exit " << WEXITSTATUS(status) << ")";
    return 0;
  }
  ::ptrace(PTRACE_SETOPTIONS, child, nullptr,
           reinterpret_cast<void*>(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
  std::uint64_t stops = 0;
  int signal_to_deliver = 0;
  for (;;) {
    ::ptrace(PTRACE_SYSCALL, child, nullptr, reinterpret_cast<void*>(signal_to_deliver));
    signal_to_deliver = 0;
    if (::waitpid(child, &status, 0) < 0) break;
    if (WIFEXITED(status)) {
      EXPECT_EQ(WEXITSTATUS(status), 0) << "the work failed in the child";
      break;
    }
    if (WIFSIGNALED(status)) break;
    if (WIFSTOPPED(status)) {
      if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
        if (++stops == kill_at) {
          ::kill(child, SIGKILL);
          ::waitpid(child, &status, 0);
          EXPECT_TRUE(WIFSIGNALED(status));
          break;
        }
      } else {
        signal_to_deliver = WSTOPSIG(status);  // a real signal: let the child have it
      }
    }
  }
  return stops;
}

}  // namespace brine_test
