// Backend registry: builds each backend's per-target kernel tables once and keeps a pointer to the
// selected one, so a kernel call costs one atomic load and one indirect call.
#include "simdiff/backend.h"

#include <array>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "kernel_table.h"

namespace simdiff {
namespace {

constexpr std::array kAllBackends = {Backend::highway, Backend::xsimd, Backend::scalar};

struct Registry {
  std::array<std::vector<detail::KernelTable>, kAllBackends.size()> tables;

  Registry() {
    tables[static_cast<std::size_t>(Backend::highway)] = detail::highway_kernel_tables();
    tables[static_cast<std::size_t>(Backend::xsimd)] = detail::xsimd_kernel_tables();
    tables[static_cast<std::size_t>(Backend::scalar)] = detail::scalar_kernel_tables();
  }

  const std::vector<detail::KernelTable>& of(Backend backend) const {
    return tables[static_cast<std::size_t>(backend)];
  }
};

const Registry& registry() {
  static const Registry instance;
  return instance;
}

struct Selection {
  Backend backend;
  const detail::KernelTable* table;
};

std::atomic<const Selection*> g_selection{nullptr};

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    out += out.empty() ? "" : ", ";
    out += name;
  }
  return out.empty() ? "none" : out;
}

const Selection* find_selection(Backend backend, std::string_view target) {
  // Selections are interned: one per (backend, target), alive for the whole process, so a
  // pointer published to g_selection never dangles.
  static std::mutex mutex;
  static std::vector<std::unique_ptr<Selection>> interned;
  const auto& tables = registry().of(backend);
  if (tables.empty()) {
    throw std::invalid_argument("backend: '" + std::string(to_string(backend)) +
                                "' is not available in this build or on this CPU");
  }
  const detail::KernelTable* chosen = nullptr;
  if (target.empty()) {
    chosen = &tables.front();
  } else {
    for (const auto& table : tables) {
      if (table.target == target) chosen = &table;
    }
  }
  if (chosen == nullptr) {
    throw std::invalid_argument(
        "target: '" + std::string(target) + "' is not a target of the " +
        std::string(to_string(backend)) +
        " backend that this CPU runs; expected one of: " + join(supported_targets(backend)));
  }
  const std::lock_guard lock(mutex);
  for (const auto& selection : interned) {
    if (selection->table == chosen) return selection.get();
  }
  interned.push_back(std::make_unique<Selection>(Selection{backend, chosen}));
  return interned.back().get();
}

const Selection* selection_from_environment() {
  const char* value = std::getenv("SIMDIFF_BACKEND");
  if (value == nullptr || *value == '\0') return find_selection(Backend::highway, {});
  const std::string_view text(value);
  const auto colon = text.find(':');
  try {
    const Backend backend = parse_backend(text.substr(0, colon));
    return find_selection(
        backend, colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1));
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument("SIMDIFF_BACKEND='" + std::string(text) + "': " + error.what());
  }
}

const Selection& current_selection() {
  const Selection* selection = g_selection.load(std::memory_order_acquire);
  if (selection == nullptr) {
    const Selection* from_env = selection_from_environment();
    g_selection.compare_exchange_strong(selection, from_env, std::memory_order_acq_rel);
    selection = g_selection.load(std::memory_order_acquire);
  }
  return *selection;
}

}  // namespace

std::string_view to_string(Backend backend) noexcept {
  switch (backend) {
    case Backend::highway:
      return "highway";
    case Backend::xsimd:
      return "xsimd";
    case Backend::scalar:
      return "scalar";
  }
  return "unknown";
}

Backend parse_backend(std::string_view name) {
  for (const Backend backend : kAllBackends) {
    if (to_string(backend) == name) return backend;
  }
  throw std::invalid_argument("backend: '" + std::string(name) +
                              "' is not a backend; expected highway, xsimd or scalar");
}

std::vector<std::string> supported_targets(Backend backend) {
  std::vector<std::string> names;
  for (const auto& table : registry().of(backend)) names.push_back(table.target);
  return names;
}

void set_backend(Backend backend, std::string_view target) {
  g_selection.store(find_selection(backend, target), std::memory_order_release);
}

BackendInfo backend_info() {
  const Selection& selection = current_selection();
  return {selection.backend, selection.table->target};
}

ScopedBackend::ScopedBackend(Backend backend, std::string_view target) : previous_(backend_info()) {
  set_backend(backend, target);
}

ScopedBackend::~ScopedBackend() { set_backend(previous_.backend, previous_.target); }

namespace detail {

const KernelTable& active_kernels() { return *current_selection().table; }

}  // namespace detail
}  // namespace simdiff
