// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// brine.hpp: the umbrella header: registry, hooks, state model, both archives, every
// standard library family.
#pragma once

#include "brine/archive.hpp"
#include "brine/archive_file.hpp"
#include "brine/binary.hpp"
#include "brine/codec.hpp"
#include "brine/error.hpp"
#include "brine/hooks.hpp"
#include "brine/identifier.hpp"
#include "brine/io.hpp"
#include "brine/limits.hpp"
#include "brine/migration.hpp"
#include "brine/registry.hpp"
#include "brine/stable.hpp"
#include "brine/state.hpp"
#include "brine/state_dict.hpp"
#include "brine/tensor.hpp"
#include "brine/types/chrono.hpp"
#include "brine/types/function.hpp"
#include "brine/types/map.hpp"
#include "brine/types/memory.hpp"
#include "brine/types/optional.hpp"
#include "brine/types/path.hpp"
#include "brine/types/sequence.hpp"
#include "brine/types/string.hpp"
#include "brine/types/tensor.hpp"
#include "brine/types/utility.hpp"
#include "brine/unknown_fields.hpp"
#include "brine/value.hpp"
#include "brine/version.hpp"
