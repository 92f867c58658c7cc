#pragma once
// Layer rule (engine/): C++20 and Eigen, no Qt; nothing of ui/ or app/. May include: engine.
// What a caller asks of the loading of a model: whether weights stay in their stored
// precision, and progress and cancellation for a window's progress dialog.

#include <atomic>
#include <functional>

namespace attn {

/// Options of openModel / loadModel / loadGguf. The callbacks run on the loading thread: a
/// window runs the load off its GUI thread and posts the fraction to its dialog.
struct LoadOptions {
    /// Keep F16, BF16 and quantized weights as the file stores them (memory-mapped, widened a
    /// panel at a time inside the products: resident memory stays near the file's size).
    /// false widens every weight to dense float32 at load (4–8× the memory of a quantized
    /// file), for code that needs Mat weights.
    bool pack_weights = true;
    /// Fraction done, 0..1, non-decreasing; called a few dozen times per load (once per
    /// layer) and with 1 at the end of a successful load. May be empty.
    std::function<void(double)> progress;
    /// Set to true (from any thread) to stop: the load returns ErrorCode::Cancelled within a
    /// layer's worth of work and releases what it had mapped. May be null.
    const std::atomic<bool>* cancel = nullptr;
};

}  // namespace attn
