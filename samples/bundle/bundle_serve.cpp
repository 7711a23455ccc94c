// brine sample, second program: loads a bundle it did not write, knowing only the registered
// types it links (text_model.cpp), wherever the bundle's folder has been moved; classifies
// sentences with the model it finds; and can export the bundle as one DDUF file.
//
//   bundle_serve --bundle DIR [--dduf OUT.dduf] [SENTENCE...]
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "text_model.hpp"

namespace {

int usage(std::FILE* to, int code) {
  std::fprintf(to, "usage: bundle_serve --bundle DIR [--dduf OUT.dduf] [SENTENCE...]\n");
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path bundle;
  std::filesystem::path dduf;
  std::vector<std::string> sentences;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return usage(stdout, 0);
    if ((arg == "--bundle" || arg == "--dduf") && i + 1 < argc) {
      (arg == "--bundle" ? bundle : dduf) = argv[++i];
    } else if (!arg.empty() && arg[0] == '-') {
      return usage(stderr, 2);
    } else {
      sentences.push_back(arg);
    }
  }
  if (bundle.empty()) return usage(stderr, 2);
  if (sentences.empty()) {
    sentences = {"the goalkeeper saved the match", "stir the butter into the sauce",
                 "investors sold bank shares"};
  }

  try {
    // Nothing here names what the bundle holds: each value says its kind and type.
    auto values = brine::load_bundle(bundle);
    sample::TextClassifier* model = nullptr;
    for (std::size_t i = 0; i < values.size(); ++i) {
      auto& value = values[i];
      std::printf("value %zu: %s", i, brine::kind_name(value.kind()));
      if (!value.type_name().empty()) {
        std::printf(" %s v%u", value.type_name().c_str(), static_cast<unsigned>(value.version()));
      }
      std::printf("\n");
      if (value.type_name() == brine::TypeDeclaration<sample::TextClassifier>::name) {
        model = &value.get<sample::TextClassifier>();
      }
    }
    if (model == nullptr) {
      std::fprintf(stderr, "bundle_serve: %s holds no sample.TextClassifier\n",
                   bundle.string().c_str());
      return 1;
    }
    std::printf("vocabulary: %s\n", model->vocabulary_file().path().string().c_str());
    for (const auto& sentence : sentences) {
      std::printf("%s\t%s\n", model->classify(sentence).c_str(), sentence.c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bundle_serve: %s\n", e.what());
    return 1;
  }
}
