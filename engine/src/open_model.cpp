#include "attn/open_model.h"

#include <filesystem>

#include "attn/formats/load.h"
#include "attn/formats/teaching_model.h"

namespace attn {

namespace {

namespace fs = std::filesystem;

constexpr const char* kBuiltinPrefix = "builtin:";

Result<std::shared_ptr<Model>> openBuiltin(const std::string& name) {
    if (name != "english" && name != "translation")
        return makeError("There is no built-in model '" + name +
                             "'; the built-in models are builtin:english and builtin:translation.",
                         ErrorCode::UnknownBuiltin);
    const std::string path = builtinModelPath(name);
    if (path.empty()) {
        std::string where;
        const auto dirs = builtinModelSearchPath();
        for (std::size_t i = 0; i < dirs.size() && i < 8; ++i) where += "\n  " + dirs[i];
        return makeError("The built-in model '" + name +
                             "' was not found. Set ATTN_RESOURCES_DIR to the resources folder, or "
                             "train it with `attention-lab train --corpus " +
                             name + " --out resources/models/" + name +
                             ".safetensors`. Looked in:" + where,
                         ErrorCode::NotFound);
    }
    return loadTeachingModel(path);
}

bool isSafetensorsFile(const fs::path& p) {
    std::error_code ec;
    return p.extension() == ".safetensors" && fs::is_regular_file(p, ec);
}

Result<std::shared_ptr<Model>> openPath(const std::string& path, const LoadOptions& load) {
    if (path.empty()) return makeError("No model path given.", ErrorCode::NotFound);
    if (isSafetensorsFile(path)) {
        // Our own format first: a lone file that carries its config in its metadata. Only when
        // the reader says it is not one of ours is it read as Hugging Face weights.
        auto teaching = loadTeachingModel(path);
        if (teaching || teaching.code() != ErrorCode::UnsupportedFormat) return teaching;
    }
    return loadModel(path, load);
}

}  // namespace

Result<std::shared_ptr<const Model>> openModel(const std::string& spec,
                                               const OpenOptions& options) {
    Result<std::shared_ptr<Model>> opened = makeError("No model.");
    if (spec == "untrained") {
        ModelConfig c = options.untrained;
        c.name = "untrained";
        opened = makeUntrainedModel(c);
        if (!opened) return opened.error();
        return std::shared_ptr<const Model>(std::move(opened.value()));
    }
    if (spec.rfind(kBuiltinPrefix, 0) == 0) {
        opened = openBuiltin(spec.substr(std::string(kBuiltinPrefix).size()));
    } else {
        opened = openPath(spec, options.load);
    }
    if (!opened) {
        // The readers give the kinds they know (missing file, not this format, unknown
        // model_type); anything else they refuse is a file of a format we read that is broken.
        if (opened.code() == ErrorCode::Invalid)
            return withCode(opened.error(), ErrorCode::Corrupt);
        return opened.error();
    }
    std::shared_ptr<Model> model = std::move(opened.value());
    if (model->source_path.empty()) model->source_path = spec;
    return std::shared_ptr<const Model>(std::move(model));
}

}  // namespace attn
