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

    if (!dduf.empty()) {
      // The same bundle as one file a model hub takes: its state as JSON, the weights as a
      // safetensors entry, the vocabulary as a .txt entry. Loaded back, the weights view the
      // mapped file and the vocabulary is extracted to a folder the values keep alive.
      brine::export_bundle_dduf(bundle, dduf);
      auto from_dduf = brine::load_bundle_dduf(dduf);
      auto& copy = from_dduf.at(0).get<sample::TextClassifier>();
      std::size_t agree = 0;
      for (const auto& sentence : sentences)
        agree += copy.classify(sentence) == model->classify(sentence);
      std::printf("exported %s: %zu values, weights mapped: %s, %zu/%zu labels agree\n",
                  dduf.string().c_str(), from_dduf.size(),
                  copy.weights().is_mapped() ? "yes" : "no", agree, sentences.size());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bundle_serve: %s\n", e.what());
    return 1;
  }
}
