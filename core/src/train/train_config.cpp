#include <pcv/error.hpp>
#include <pcv/graph.hpp>
#include <pcv/trainer.hpp>

#include <fstream>
#include <sstream>

#include "train/json_fields.hpp"

namespace pcv {
namespace {

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& p) {
  if (p.empty()) return {};
  const std::filesystem::path path(p);
  return path.is_absolute() ? path : base / path;
}

}  // namespace

TrainConfig TrainConfig::from_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read the training config " + path.string() + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return from_json(text.str(), path.parent_path(), path.string());
}

// {"task": "classification", "model": "...", "data": {"train": "...", "val": "...", "val_every": 10,
//  "blocks_per_cloud": 1, "preprocessing": {...},
//  "augmentation": {...}}, "loss": {"op": "nn.cross_entropy", "attrs": {...}, "weight": "..."}, "optimizer":
//  {...}, "schedule": {...}, "epochs": 10, "batch_size": 32, "seed": 0, "threads": 0, "output_dir": "..."}
TrainConfig TrainConfig::from_json(std::string_view json, const std::filesystem::path& base,
                                   const std::string& where) {
  detail::JsonFields f(json, where);
  TrainConfig c;
  std::string model, output_dir = c.output_dir.string();
  f.read("task", c.task);
  if (c.task != "classification" && c.task != "segmentation")
    f.fail("'task' must be \"classification\" or \"segmentation\" (got \"" + c.task + "\")");
  f.read("model", model);
  if (model.empty()) f.fail("'model' (the initial model file) is missing");
  c.model = resolve(base, model);
  f.read("epochs", c.epochs);
  f.read("batch_size", c.batch_size);
  f.read("max_steps_per_epoch", c.max_steps_per_epoch);
  f.read("seed", c.seed);
  f.read("threads", c.threads);
  f.read("output_dir", output_dir);
  c.output_dir = resolve(base, output_dir);
  if (c.epochs < 1 || c.batch_size < 1 || c.max_steps_per_epoch < 0 || c.threads < 0)
    f.fail("'epochs' and 'batch_size' must be >= 1, 'max_steps_per_epoch' and 'threads' >= 0");

  const auto section = [&](const char* key) {
    nlohmann::json j = nlohmann::json::object();
    f.read(key, j);
    return j;
  };
  detail::JsonFields data(section("data"), where + ": data");
  std::string train, val;
  nlohmann::json pre = nlohmann::json::object(), aug = nlohmann::json::object();
  data.read("train", train);
  data.read("val", val);
  data.read("val_every", c.val_every);
  data.read("blocks_per_cloud", c.blocks_per_cloud);
  data.read("preprocessing", pre);
  data.read("augmentation", aug);
  data.finish();
  if (train.empty()) data.fail("'train' (a folder of class folders or a file list) is missing");
  if (c.val_every < 0 || c.val_every == 1) data.fail("'val_every' must be 0 (none) or >= 2");
  if (c.blocks_per_cloud < 1) data.fail("'blocks_per_cloud' must be >= 1");
  c.train_data = resolve(base, train);
  c.val_data = resolve(base, val);
  c.preprocessing = Preprocessing::from_json(pre.dump());
  c.augmentation = Augmentation::from_json(aug.dump());

  detail::JsonFields loss(section("loss"), where + ": loss");
  nlohmann::json attrs = nlohmann::json::object();
  loss.read("op", c.loss_op);
  loss.read("attrs", attrs);
  loss.read("weight", c.loss_weight);
  loss.finish();
  for (const auto& [key, value] : attrs.items()) c.loss_attrs[key] = parse_attr_value(value.dump());

  c.optimizer = OptimizerConfig::from_json(section("optimizer").dump(), where);
  c.schedule = ScheduleConfig::from_json(section("schedule").dump(), where);
  f.finish();
  return c;
}

std::string TrainConfig::to_json() const {
  nlohmann::json attrs = nlohmann::json::object();
  for (const auto& [key, value] : loss_attrs) attrs[key] = nlohmann::json::parse(attr_to_string(value));
  nlohmann::json loss_json{{"op", loss_op}, {"attrs", attrs}};
  if (!loss_weight.empty()) loss_json["weight"] = loss_weight;
  nlohmann::json data{{"train", train_data.string()},
                      {"val_every", val_every},
                      {"blocks_per_cloud", blocks_per_cloud},
                      {"preprocessing", nlohmann::json::parse(preprocessing.to_json())},
                      {"augmentation", nlohmann::json::parse(augmentation.to_json())}};
  if (!val_data.empty()) data["val"] = val_data.string();
  return nlohmann::json{{"task", task},
                        {"model", model.string()},
                        {"data", data},
                        {"loss", loss_json},
                        {"optimizer", nlohmann::json::parse(optimizer.to_json())},
                        {"schedule", nlohmann::json::parse(schedule.to_json())},
                        {"epochs", epochs},
                        {"batch_size", batch_size},
                        {"max_steps_per_epoch", max_steps_per_epoch},
                        {"seed", seed},
                        {"threads", threads},
                        {"output_dir", output_dir.string()}}
      .dump(2);
}

}  // namespace pcv
