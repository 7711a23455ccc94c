// brine sample, first program: trains the text classifier and saves it as a bundle, a folder
// holding the model, its training settings, a note, and the vocabulary file the model names.
//
//   bundle_train --out DIR [--work DIR]
//
// The vocabulary is written to the work folder (a scratch place, as a tokenizer's output would
// be); save_bundle copies it into DIR, so the work folder can be deleted afterwards.
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <string>

#include "text_model.hpp"

namespace {

int usage(std::FILE* to, int code) {
  std::fprintf(to, "usage: bundle_train --out DIR [--work DIR]\n");
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path out;
  std::filesystem::path work;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return usage(stdout, 0);
    if ((arg == "--out" || arg == "--work") && i + 1 < argc) {
      (arg == "--out" ? out : work) = argv[++i];
    } else {
      return usage(stderr, 2);
    }
  }
  if (out.empty()) return usage(stderr, 2);
  if (work.empty()) work = out.string() + ".work";

  try {
    sample::TrainingSettings settings;
    settings.smoothing = 0.5;
    const auto corpus = sample::builtin_corpus();
    const auto model = sample::TextClassifier::train(corpus, settings, work / "vocab.txt");

    std::size_t correct = 0;
    for (const auto& [sentence, label] : corpus) correct += model.classify(sentence) == label;

    const std::map<std::string, std::string> note{{"trained_by", "bundle_train"},
                                                  {"examples", std::to_string(corpus.size())}};
    // Three values of three kinds: a registered object with a data file, a registered object,
    // a plain map. load_bundle returns them in this order.
    brine::save_bundle(out, model, settings, note);

    std::printf("trained on %zu sentences (%zu labels, %lld words), %zu/%zu right\n", corpus.size(),
                model.labels().size(), static_cast<long long>(model.weights().shape()[1]), correct,
                corpus.size());
    std::printf("saved the bundle %s\n", out.string().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bundle_train: %s\n", e.what());
    return 1;
  }
}
